package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
)

// chart is a line chart drawn as SVG with the standard library: series of
// points, horizontal reference lines (objectives) and vertical ones (events).
type chart struct {
	Title, XLabel, YLabel string
	Series                []series
	HLines, VLines        []refLine
	XFromZero             bool // start the x axis at 0 (the y axis always does)
}

type series struct {
	Name   string
	Points []xy // drawn in this order
	Color  string
	Dashed bool
	Marker string // "circle", "square" or "" for none
}

type xy struct{ X, Y float64 }

type refLine struct {
	At    float64
	Label string
	Color string
}

// The drawing's size and the plot area's margins, in pixels.
const (
	svgW, svgH                           = 800.0, 440.0
	padLeft, padRight, padTop, padBottom = 72.0, 230.0, 44.0, 56.0
	plotW, plotH                         = svgW - padLeft - padRight, svgH - padTop - padBottom
)

// svg renders the chart.
func (c chart) svg() []byte {
	var b bytes.Buffer
	xs, ys := c.bounds()
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&b, `<rect width="%.0f" height="%.0f" fill="white"/>`+"\n", svgW, svgH)
	text(&b, svgW/2-padRight/2, 24, "middle", `font-size="15" font-weight="bold"`, c.Title)
	c.axes(&b, xs, ys)
	for _, l := range c.HLines {
		y := ys.pos(l.At)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5" stroke-dasharray="6 4"/>`+"\n",
			padLeft, y, padLeft+plotW, y, l.Color)
		text(&b, padLeft+plotW-4, y-5, "end", `fill="`+l.Color+`"`, l.Label)
	}
	for _, l := range c.VLines {
		x := xs.pos(l.At)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1" stroke-dasharray="3 3"/>`+"\n",
			x, padTop, x, padTop+plotH, l.Color)
		text(&b, x+4, padTop+12, "start", `fill="`+l.Color+`"`, l.Label)
	}
	for _, s := range c.Series {
		s.draw(&b, xs, ys)
	}
	c.legend(&b)
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// bounds picks nice axis ranges that hold every point and reference line.
func (c chart) bounds() (xs, ys scale) {
	xMin, xMax, yMax := math.Inf(1), math.Inf(-1), 0.0
	for _, s := range c.Series {
		for _, p := range s.Points {
			xMin, xMax, yMax = min(xMin, p.X), max(xMax, p.X), max(yMax, p.Y)
		}
	}
	for _, l := range c.VLines {
		xMin, xMax = min(xMin, l.At), max(xMax, l.At)
	}
	for _, l := range c.HLines {
		yMax = max(yMax, l.At*1.1)
	}
	if c.XFromZero || math.IsInf(xMin, 1) {
		xMin = min(0, xMin)
	}
	if math.IsInf(xMax, -1) {
		xMax = 1
	}
	return niceScale(xMin, xMax, padLeft, plotW, false), niceScale(0, yMax, padTop+plotH, -plotH, true)
}

func (c chart) axes(b *bytes.Buffer, xs, ys scale) {
	for _, t := range xs.ticks() {
		x := xs.pos(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`+"\n", x, padTop, x, padTop+plotH)
		text(b, x, padTop+plotH+16, "middle", "", shortNum(t))
	}
	for _, t := range ys.ticks() {
		y := ys.pos(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`+"\n", padLeft, y, padLeft+plotW, y)
		text(b, padLeft-6, y+4, "end", "", shortNum(t))
	}
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#444"/>`+"\n", padLeft, padTop, plotW, plotH)
	text(b, padLeft+plotW/2, svgH-14, "middle", "", c.XLabel)
	fmt.Fprintf(b, `<text x="18" y="%.1f" text-anchor="middle" transform="rotate(-90 18 %.1f)">%s</text>`+"\n",
		padTop+plotH/2, padTop+plotH/2, escape(c.YLabel))
}

func (s series) draw(b *bytes.Buffer, xs, ys scale) {
	if len(s.Points) > 1 {
		b.WriteString(`<polyline fill="none" stroke="` + s.Color + `" stroke-width="2"`)
		if s.Dashed {
			b.WriteString(` stroke-dasharray="5 3"`)
		}
		b.WriteString(` points="`)
		for i, p := range s.Points {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(b, "%.1f,%.1f", xs.pos(p.X), ys.pos(p.Y))
		}
		b.WriteString(`"/>` + "\n")
	}
	for _, p := range s.Points {
		marker(b, s.Marker, s.Color, xs.pos(p.X), ys.pos(p.Y))
	}
}

func (c chart) legend(b *bytes.Buffer) {
	x, y := padLeft+plotW+16, padTop+8
	for _, s := range c.Series {
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="5 3"`
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`+"\n", x, y, x+24, y, s.Color, dash)
		marker(b, s.Marker, s.Color, x+12, y)
		text(b, x+30, y+4, "start", "", s.Name)
		y += 18
	}
}

func marker(b *bytes.Buffer, kind, color string, x, y float64) {
	switch kind {
	case "circle":
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`+"\n", x, y, color)
	case "square":
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="7" height="7" fill="%s"/>`+"\n", x-3.5, y-3.5, color)
	}
}

func text(b *bytes.Buffer, x, y float64, anchor, attrs, s string) {
	if attrs != "" {
		attrs = " " + attrs
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="%s"%s>%s</text>`+"\n", x, y, anchor, attrs, escape(s))
}

func escape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // writes to a buffer: cannot fail
	return b.String()
}

// scale maps data values on [lo, hi] to pixels from origin over length
// (negative: upwards), with ticks every step.
type scale struct {
	lo, hi, step   float64
	origin, length float64
}

func (s scale) pos(v float64) float64 {
	return s.origin + (v-s.lo)/(s.hi-s.lo)*s.length
}

func (s scale) ticks() []float64 {
	var out []float64
	for i := 0; ; i++ {
		t := s.lo + float64(i)*s.step
		if t > s.hi+s.step/1e6 {
			return out
		}
		out = append(out, math.Round(t/s.step)*s.step)
	}
}

// niceScale widens [lo, hi] to round numbers with about six ticks of 1, 2
// or 5 times a power of ten.
func niceScale(lo, hi, origin, length float64, fromZero bool) scale {
	if hi <= lo {
		hi = lo + max(1, math.Abs(lo)*0.1)
	}
	step := niceStep((hi - lo) / 6)
	lo = math.Floor(lo/step) * step
	if fromZero {
		lo = 0
	}
	hi = math.Ceil(hi/step) * step
	return scale{lo: lo, hi: hi, step: step, origin: origin, length: length}
}

func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}
