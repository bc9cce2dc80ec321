package worker_test

import (
	"os"
	"strings"
	"testing"
)

// The README's worker is Example's body, so it compiles and stays current.
func TestREADMEWorkerIsTheExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	body := between(string(src), "func Example() {\n", "\n}\n")
	if body == "" || !strings.Contains(string(readme), "func main() {\n"+body+"\n}\n") {
		t.Fatal("README.md's worker (section Workers) differs from Example in example_test.go: update one from the other")
	}
}

func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	body, _, _ := strings.Cut(rest, to)
	return body
}
