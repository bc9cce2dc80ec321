package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goldenArgs runs the report on the recorded results.
func goldenArgs(in, out string) []string {
	return []string{"-in", in, "-out", out}
}

// runReport runs the program and fails the test unless it exits with want.
func runReport(t *testing.T, args []string, want int) (stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	if code := run(args, &o, &e); code != want {
		t.Fatalf("run %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, want, o.String(), e.String())
	}
	return o.String(), e.String()
}

// copyInputs copies testdata/in to a fresh directory a case may change.
func copyInputs(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "in")
	if err := os.CopyFS(dir, os.DirFS("testdata/in")); err != nil { // jmeter-fanout/ is a folder
		t.Fatal(err)
	}
	return dir
}

// editJSON rewrites a JSON file through fn.
func editJSON(t *testing.T, path string, fn func(map[string]any)) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFile(t, path), &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	writeJSON(t, path, m)
}

// editJSONL rewrites line n (1-based) of a JSON-lines file through fn.
func editJSONL(t *testing.T, path string, n int, fn func(map[string]any)) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(readFile(t, path))), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[n-1]), &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	lines[n-1] = string(b)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// obj walks into nested JSON objects: obj(m, "metrics", "wsg_lost").
func obj(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}

// table is one markdown table of the report: its rows as column -> cell.
type table []map[string]string

// tables parses every table in a markdown document.
func tables(md string) []table {
	var out []table
	var header []string
	var cur table
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			if header != nil {
				out = append(out, cur)
			}
			header, cur = nil, nil
			continue
		}
		cells := splitRow(line)
		switch {
		case header == nil:
			header = cells
		case strings.HasPrefix(line, "| ---"):
		default:
			row := map[string]string{}
			for i, c := range cells {
				if i < len(header) {
					row[header[i]] = c
				}
			}
			cur = append(cur, row)
		}
	}
	return out
}

func splitRow(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(line, "| "), " |")
	parts := strings.Split(strings.ReplaceAll(line, `\|`, "\x00"), " | ")
	for i := range parts {
		parts[i] = strings.ReplaceAll(parts[i], "\x00", "|")
	}
	return parts
}

// findTable returns the first table with the column, and fails without.
func findTable(t *testing.T, md, column string) table {
	t.Helper()
	for _, tb := range tables(md) {
		if len(tb) > 0 {
			if _, ok := tb[0][column]; ok {
				return tb
			}
		}
	}
	t.Fatalf("no table with a %q column in:\n%s", column, md)
	return nil
}

// rowWhere returns the table's row whose column holds value.
func (tb table) rowWhere(t *testing.T, column, value string) map[string]string {
	t.Helper()
	for _, r := range tb {
		if r[column] == value {
			return r
		}
	}
	t.Fatalf("no row with %s = %q", column, value)
	return nil
}
