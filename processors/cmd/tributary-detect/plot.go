package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// chart collects what --plot draws: the series, its scores and the
// points that scored at least the alert level.
type chart struct {
	values, scores, alerts plotter.XYs
	alertAt                float64
}

func (c *chart) add(t time.Time, v, score float64) {
	x := float64(t.Unix())
	c.values = append(c.values, plotter.XY{X: x, Y: v})
	c.scores = append(c.scores, plotter.XY{X: x, Y: score})
	if score >= c.alertAt {
		c.alerts = append(c.alerts, plotter.XY{X: x, Y: v})
	}
}

// write draws the series (alerts in red) above its scores (the alert
// level dashed) into path, SVG or PNG by its extension. gonum/plot draws
// it: a well-kept plotting library, not a hand-written one.
func (c *chart) write(path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".svg" && ext != ".png" {
		return fmt.Errorf("-plot %s: want a .svg or .png file", path)
	}
	if len(c.values) == 0 {
		return fmt.Errorf("-plot %s: no points to draw", path)
	}
	ticks := plot.TimeTicks{Format: "2006-01-02\n15:04"}

	top := plot.New()
	top.Title.Text = fmt.Sprintf("series (%d points, %d at or above score %.2f in red)", len(c.values), len(c.alerts), c.alertAt)
	top.X.Tick.Marker = ticks
	line, err := plotter.NewLine(c.values)
	if err != nil {
		return err
	}
	line.Color = color.RGBA{B: 160, A: 255}
	top.Add(line)
	if len(c.alerts) > 0 {
		pts, err := plotter.NewScatter(c.alerts)
		if err != nil {
			return err
		}
		pts.Color, pts.Shape, pts.Radius = color.RGBA{R: 220, A: 255}, draw.CircleGlyph{}, vg.Points(3)
		top.Add(pts)
	}

	bottom := plot.New()
	bottom.Title.Text = "anomaly score"
	bottom.X.Tick.Marker = ticks
	bottom.Y.Min, bottom.Y.Max = 0, 1
	sl, err := plotter.NewLine(c.scores)
	if err != nil {
		return err
	}
	sl.Color = color.Black
	level, err := plotter.NewLine(plotter.XYs{{X: c.values[0].X, Y: c.alertAt}, {X: c.values[len(c.values)-1].X, Y: c.alertAt}})
	if err != nil {
		return err
	}
	level.Color, level.Dashes = color.RGBA{R: 220, A: 255}, []vg.Length{vg.Points(4), vg.Points(3)}
	bottom.Add(sl, level)

	w, h := 28*vg.Centimeter, 16*vg.Centimeter
	var canvas vg.CanvasWriterTo
	if ext == ".svg" {
		canvas = vgsvg.New(w, h)
	} else {
		canvas = vgimg.PngCanvas{Canvas: vgimg.New(w, h)}
	}
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Centimeter / 2, PadTop: vg.Centimeter / 4, PadBottom: vg.Centimeter / 4, PadLeft: vg.Centimeter / 4, PadRight: vg.Centimeter / 2}
	plots := [][]*plot.Plot{{top}, {bottom}}
	canvases := plot.Align(plots, tiles, draw.New(canvas))
	top.Draw(canvases[0][0])
	bottom.Draw(canvases[1][0])
	return saveTo(path, canvas)
}

func saveTo(path string, c vg.CanvasWriterTo) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("-plot: %w", err)
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("-plot %s: %w", path, err)
	}
	return f.Close()
}
