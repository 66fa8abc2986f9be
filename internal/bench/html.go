package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"os"
	"strings"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 720.0, 320.0
	padL, padR     = 64.0, 36.0
	padT, padB     = 16.0, 40.0
	maxNines       = 5.0 // the percentile axis runs to 99.999%
)

// writeHTMLFile writes a self-contained report (inline SVG, no scripts or
// outside resources) to path.
func writeHTMLFile(path string, r *Result) error {
	var b bytes.Buffer
	if err := writeHTML(&b, r); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write --html: %w", err)
	}
	return nil
}

// writeHTML renders the report.
func writeHTML(b *bytes.Buffer, r *Result) error {
	js, _ := json.MarshalIndent(r, "", "  ")
	var text bytes.Buffer
	writeText(&text, r)
	data := struct {
		R          *Result
		Text, JSON string
		Percentile template.HTML
		Histogram  template.HTML
	}{R: r, Text: text.String(), JSON: string(js)}
	if r.latency != nil && r.latency.TotalCount() > 0 {
		data.Percentile = template.HTML(percentileSVG(r.latency))
		data.Histogram = template.HTML(histogramSVG(r.latency))
	}
	return reportTemplate.Execute(b, data)
}

// percentileSVG plots latency against percentile, with the percentile
// axis in "nines" (90%, 99%, 99.9%, ...), as HdrHistogram plots do.
func percentileSVG(h *hdr.Histogram) string {
	maxMS := float64(h.Max()) / 1000
	top := niceCeil(maxMS)
	var pts []string
	for x := 0.0; x <= maxNines+1e-9; x += 0.02 {
		q := 100 * (1 - math.Pow(10, -x))
		v := float64(h.ValueAtQuantile(q)) / 1000
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(x/maxNines), sy(v/top)))
	}
	var s strings.Builder
	axes(&s, top, "latency (ms)")
	for i, label := range []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"} {
		x := sx(float64(i) / maxNines)
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, x, padT, x, chartH-padB)
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x, chartH-padB+16, label)
	}
	fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" text-anchor="middle">percentile</text>`, (padL+chartW-padR)/2, chartH-4)
	fmt.Fprintf(&s, `<polyline points="%s" class="line"/>`, strings.Join(pts, " "))
	return svg(s.String())
}

// histogramSVG plots how many deliveries fell in each of 40 latency bins
// spaced evenly on a log scale.
func histogramSVG(h *hdr.Histogram) string {
	lo := math.Log10(float64(max(h.Min(), 1)))
	hi := math.Log10(float64(max(h.Max(), 2)))
	if hi-lo < 0.5 {
		hi = lo + 0.5
	}
	const bins = 40
	counts := make([]int64, bins)
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		i := int((math.Log10(float64(max(bar.To, 1))) - lo) / (hi - lo) * bins)
		counts[min(max(i, 0), bins-1)] += bar.Count
	}
	var peak int64 = 1
	for _, c := range counts {
		peak = max(peak, c)
	}
	top := niceCeil(float64(peak))
	var s strings.Builder
	axes(&s, top, "deliveries")
	w := (chartW - padL - padR) / bins
	for i, c := range counts {
		if c == 0 {
			continue
		}
		y := sy(float64(c) / top)
		fmt.Fprintf(&s, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="bar"><title>%d</title></rect>`,
			padL+float64(i)*w+1, y, w-2, chartH-padB-y, c)
	}
	for d := math.Ceil(lo); d <= hi; d++ {
		x := padL + (d-lo)/(hi-lo)*(chartW-padL-padR)
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x, chartH-padB+16, ms(math.Pow(10, d)/1000))
	}
	fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" text-anchor="middle">latency (log scale)</text>`, (padL+chartW-padR)/2, chartH-4)
	return svg(s.String())
}

// axes draws the frame and five horizontal grid lines up to top.
func axes(s *strings.Builder, top float64, ylabel string) {
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		y := sy(float64(i) / 4)
		fmt.Fprintf(s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, padL, y, chartW-padR, y)
		fmt.Fprintf(s, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, padL-6, y+4, trimFloat(v))
	}
	fmt.Fprintf(s, `<text x="12" y="%.1f" transform="rotate(-90 12 %.1f)" text-anchor="middle">%s</text>`,
		(padT+chartH-padB)/2, (padT+chartH-padB)/2, ylabel)
}

func svg(body string) string {
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f">%s</svg>`,
		chartW, chartH, chartW, chartH, body)
}

// sx and sy map fractions of the plot area to coordinates.
func sx(f float64) float64 { return padL + f*(chartW-padL-padR) }
func sy(f float64) float64 { return chartH - padB - f*(chartH-padT-padB) }

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// trimFloat formats an axis label briefly (2.5M, 750k, 0.25).
func trimFloat(v float64) string {
	switch {
	case v >= 1e6:
		return trimFloat(v/1e6) + "M"
	case v >= 1e4:
		return trimFloat(v/1e3) + "k"
	}
	if v >= 100 || v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

var reportTemplate = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>herald bench {{.R.Scenario}}: {{.R.Target}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:800px}
h1{font-size:20px} h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse} td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}
th{text-align:left;font-weight:600}
pre{background:#f6f6f6;padding:10px;overflow:auto;font-size:12px}
svg text{font-size:11px;fill:#444} .grid{stroke:#e4e4e4} .line{fill:none;stroke:#1a6fd1;stroke-width:2} .bar{fill:#1a6fd1}
.warn{color:#a30}
</style></head><body>
<h1>herald bench {{.R.Scenario}} — {{.R.Target}}</h1>
<p>{{.R.Clients}} clients, {{.R.Workers}} worker(s), payload {{.R.Size}} B, duration {{.R.Duration}} s, target {{range $i, $u := .R.URLs}}{{if $i}}, {{end}}{{$u}}{{end}}</p>
{{range .R.Warnings}}<p class="warn">warning: {{.}}</p>{{end}}
<table>
<tr><th>connections/s</th><td>{{printf "%.0f" .R.ConnectionsPerSecond}}</td></tr>
<tr><th>deliveries/s</th><td>{{printf "%.0f" .R.DeliveriesPerSecond}}</td></tr>
<tr><th>deliveries (expected)</th><td>{{.R.Deliveries}} ({{.R.Expected}})</td></tr>
<tr><th>lost / duplicated</th><td>{{.R.Lost}} / {{.R.Duplicates}}</td></tr>
<tr><th>latency p50 / p90 / p99 / p99.9 / max (ms)</th><td>{{printf "%.3f" .R.Latency.P50}} / {{printf "%.3f" .R.Latency.P90}} / {{printf "%.3f" .R.Latency.P99}} / {{printf "%.3f" .R.Latency.P999}} / {{printf "%.3f" .R.Latency.Max}}</td></tr>
<tr><th>errors</th><td>{{.R.Errors}}</td></tr>
</table>
{{if .Percentile}}<h2>Latency by percentile</h2>{{.Percentile}}
<h2>Latency distribution</h2>{{.Histogram}}{{else}}<p>No deliveries, so no latency to plot.</p>{{end}}
<h2>Report</h2><pre>{{.Text}}</pre>
<details><summary>JSON</summary><pre>{{.JSON}}</pre></details>
</body></html>
`))
