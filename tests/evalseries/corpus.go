package evalseries

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Labelled is a series with its labelled anomalies, ready to be written
// for a detector and scored.
type Labelled struct {
	Name      string
	Family    string
	Times     []time.Time
	Values    []float64
	Anomalies []Window // labelled point ranges
}

// Len is the number of points.
func (l Labelled) Len() int { return len(l.Values) }

// WriteCSV writes `timestamp,value` with a header, timestamps as
// "2006-01-02 15:04:05" — the layout of the public benchmark corpora.
func (l Labelled) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"timestamp", "value"}); err != nil {
		return err
	}
	for i, v := range l.Values {
		if err := cw.Write([]string{l.Times[i].UTC().Format(time.DateTime), strconv.FormatFloat(v, 'g', -1, 64)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadKPI reads a `timestamp,value,label` file (Unix seconds, label 1 on
// anomalous points); each run of consecutive labelled points is one
// anomaly.
func ReadKPI(path, family string) (Labelled, error) {
	f, err := os.Open(path)
	if err != nil {
		return Labelled{}, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 3
	l := Labelled{Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), Family: family}
	start := -1
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return l, fmt.Errorf("%s: %w", path, err)
		}
		if line == 1 && rec[0] == "timestamp" {
			continue
		}
		sec, err1 := strconv.ParseInt(rec[0], 10, 64)
		v, err2 := strconv.ParseFloat(rec[1], 64)
		lab, err3 := strconv.Atoi(rec[2])
		if err := errors.Join(err1, err2, err3); err != nil {
			return l, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		i := len(l.Values)
		l.Times = append(l.Times, time.Unix(sec, 0).UTC())
		l.Values = append(l.Values, v)
		switch {
		case lab == 1 && start < 0:
			start = i
		case lab != 1 && start >= 0:
			l.Anomalies = append(l.Anomalies, Window{start, i - 1})
			start = -1
		}
	}
	if start >= 0 {
		l.Anomalies = append(l.Anomalies, Window{start, len(l.Values) - 1})
	}
	if len(l.Values) == 0 {
		return l, fmt.Errorf("%s: no data rows", path)
	}
	return l, nil
}

// ReadKPIDir reads every *.csv of dir as a KPI series of family.
func ReadKPIDir(dir, family string) ([]Labelled, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no *.csv in %s", dir)
	}
	slices.Sort(names)
	var out []Labelled
	for _, n := range names {
		l, err := ReadKPI(n, family)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}
