package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ms formats milliseconds with one decimal: "34.8 ms"; "?" when unknown.
func ms(v float64) string {
	if math.IsNaN(v) {
		return "?"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
}

// msNum is ms without the unit, for table cells.
func msNum(v float64) string {
	if math.IsNaN(v) {
		return "?"
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// thousands rounds to an integer with thousands separators: 19,900.
func thousands(v float64) string {
	if math.IsNaN(v) {
		return "?"
	}
	s := strconv.FormatInt(int64(math.Round(math.Abs(v))), 10)
	var b strings.Builder
	if v < 0 && math.Round(v) != 0 {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// cores formats CPU cores: "0.87"; below 0.1, where the light loads of
// smoke runs sit, two significant digits: "0.015"; "—" when unknown.
func cores(v float64) string {
	switch {
	case v <= 0:
		return "—"
	case v < 0.1:
		return fmt.Sprintf("%#.2g", v) // # keeps a trailing zero: 0.020
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// plural: "1 run", "3 runs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func trimZeros(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// cell makes text safe inside a markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
