package evalseries

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// Command is a detector run as a program, the way a user runs one: it is
// given a `timestamp,value` CSV file as its last argument and must print a
// header and then one line per input point whose last field is the score.
type Command struct {
	Path string
	Args []string
}

// Score runs the command on l and returns its score per point.
func (c Command) Score(ctx context.Context, dir string, l Labelled) ([]float64, error) {
	in := filepath.Join(dir, l.Family+"."+l.Name+".csv")
	f, err := os.Create(in)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(f)
	err = l.WriteCSV(w)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", in, err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, c.Path, append(append([]string(nil), c.Args...), in)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", c.Path, in, err, strings.TrimSpace(stderr.String()))
	}
	return parseScores(stdout.Bytes(), l.Len())
}

// parseScores reads the last field of every line after the header.
func parseScores(out []byte, want int) ([]float64, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) < 1 {
		return nil, fmt.Errorf("detector printed nothing")
	}
	scores := make([]float64, 0, want)
	for i, l := range lines[1:] {
		f := l[strings.LastIndexByte(l, ',')+1:]
		s, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("output line %d: score %q: %w", i+2, f, err)
		}
		scores = append(scores, s)
	}
	if len(scores) != want {
		return nil, fmt.Errorf("detector printed %d scores for %d points", len(scores), want)
	}
	return scores, nil
}

// ScoreAll runs the command on every series, two at a time per core.
func (c Command) ScoreAll(ctx context.Context, dir string, ls []Labelled) ([]Series, error) {
	out := make([]Series, len(ls))
	errs := make([]error, len(ls))
	sem := make(chan struct{}, 2*runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, l := range ls {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			s, err := c.Score(ctx, dir, l)
			if err != nil {
				errs[i] = fmt.Errorf("%s/%s: %w", l.Family, l.Name, err)
				return
			}
			out[i] = Series{Name: l.Name, Family: l.Family, Scores: s, Windows: Windows(l.Len(), l.Anomalies)}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
