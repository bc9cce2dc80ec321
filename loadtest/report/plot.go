package main

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The drawing's size, legend included (600 pt: 800 px).
const chartW, chartH vg.Length = 600, 330

// svg draws the chart with gonum/plot.
func (c chart) svg() ([]byte, error) {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = c.Title, c.XLabel, c.YLabel
	p.Add(plotter.NewGrid())
	legend := plot.NewLegend()
	for _, s := range c.Series {
		thumbs, err := s.add(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", c.Title, s.Name, err)
		}
		legend.Add(s.Name, thumbs...)
	}
	c.fitAxes(p)
	if err := c.addRefLines(p, &legend); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Title, err)
	}
	return render(p, legend)
}

// add draws a series as a line with its markers; it returns what the
// legend shows of it.
func (s series) add(p *plot.Plot) ([]plot.Thumbnailer, error) {
	pts := make(plotter.XYs, len(s.Points))
	for i, pt := range s.Points {
		pts[i] = plotter.XY{X: pt.X, Y: pt.Y}
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return nil, err
	}
	line.Color, line.Width = s.Color, vg.Points(2)
	if s.Dashed {
		line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	p.Add(line)
	if s.Marker == nil {
		return []plot.Thumbnailer{line}, nil
	}
	marks, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	marks.GlyphStyle = draw.GlyphStyle{Color: s.Color, Radius: vg.Points(3), Shape: s.Marker}
	p.Add(marks)
	return []plot.Thumbnailer{line, marks}, nil
}

// fitAxes makes room for the reference lines: the y axis starts at 0 and
// rises above the objectives, the x axis holds every event.
func (c chart) fitAxes(p *plot.Plot) {
	p.Y.Min = 0
	for _, l := range c.HLines {
		p.Y.Max = max(p.Y.Max, l.At*1.1)
	}
	for _, l := range c.VLines {
		p.X.Min, p.X.Max = min(p.X.Min, l.At), max(p.X.Max, l.At)
	}
	if c.XFromZero || math.IsInf(p.X.Min, 1) {
		p.X.Min = min(0, p.X.Min)
	}
	if math.IsInf(p.X.Max, -1) {
		p.X.Max = 1
	}
	if p.Y.Max <= 0 {
		p.Y.Max = 1
	}
}

// addRefLines draws the objectives across the plot, named in the legend,
// and the events from bottom to top, named at the top of their line.
func (c chart) addRefLines(p *plot.Plot, legend *plot.Legend) error {
	for _, l := range c.HLines {
		line, err := refLineOf(l, plotter.XYs{{X: p.X.Min, Y: l.At}, {X: p.X.Max, Y: l.At}})
		if err != nil {
			return err
		}
		p.Add(line)
		legend.Add(l.Label, line)
	}
	for _, l := range c.VLines {
		line, err := refLineOf(l, plotter.XYs{{X: l.At, Y: p.Y.Min}, {X: l.At, Y: p.Y.Max}})
		if err != nil {
			return err
		}
		label, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: l.At, Y: p.Y.Max}}, Labels: []string{l.Label}})
		if err != nil {
			return err
		}
		label.TextStyle[0].Color = l.Color
		label.Offset = vg.Point{X: vg.Points(3), Y: -vg.Points(12)}
		p.Add(line, label)
	}
	return nil
}

func refLineOf(l refLine, pts plotter.XYs) (*plotter.Line, error) {
	line, err := plotter.NewLine(pts)
	if err != nil {
		return nil, err
	}
	line.Color, line.Width, line.Dashes = l.Color, vg.Points(1.5), []vg.Length{vg.Points(6), vg.Points(4)}
	return line, nil
}

// render writes the plot as SVG with its legend on the right, where it
// hides no point.
func render(p *plot.Plot, legend plot.Legend) ([]byte, error) {
	canvas := vgsvg.New(chartW, chartH)
	dc := draw.New(canvas)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	legend.Top, legend.YOffs = true, -vg.Points(24) // below the title
	r := legend.Rectangle(dc)
	legend.Draw(dc)
	p.Draw(draw.Crop(dc, 0, -(r.Max.X-r.Min.X)-vg.Points(12), 0, 0))
	var b bytes.Buffer
	if _, err := canvas.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
