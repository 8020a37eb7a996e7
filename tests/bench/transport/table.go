package transport

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints results as an aligned table, our rows with their
// ratio to the raw client and, for Kafka, to the Sarama adapter.
func WriteTable(w io.Writer, results []Result) error {
	sarama := map[string]float64{}
	for _, r := range results {
		if r.Impl == ImplSarama {
			sarama[fmt.Sprint(r.Op, r.Partitions)] = r.MsgsPerSec
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "transport\top\tpart\timpl\tmsgs/s\tMB/s\tjoin ms\tvs raw\tvs sarama\tnote\t")
	for _, r := range results {
		vsRaw, vsSarama := "", ""
		if r.Ratio > 0 {
			vsRaw = fmt.Sprintf("%.0f%%", 100*r.Ratio)
		}
		if s := sarama[fmt.Sprint(r.Op, r.Partitions)]; s > 0 && r.Transport == "kafka" && r.Impl != ImplSarama && r.Impl != ImplKafkaGo {
			vsSarama = fmt.Sprintf("%.0f%%", 100*r.MsgsPerSec/s)
		}
		join := ""
		if r.JoinMillis > 0 {
			join = fmt.Sprintf("%.0f", r.JoinMillis)
		}
		note := ""
		if r.Err != "" {
			note = "ERROR: " + r.Err
			if len(note) > 60 {
				note = note[:60] + "…"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%.0f\t%.1f\t%s\t%s\t%s\t%s\t\n",
			r.Transport, r.Op, r.Partitions, r.Impl, r.MsgsPerSec, r.MBPerSec, join, vsRaw, vsSarama, note)
	}
	return tw.Flush()
}
