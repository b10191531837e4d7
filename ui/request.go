package ui

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/deltascope/deltascope/internal/termtext"
	"github.com/deltascope/deltascope/reqlog"
)

// detailView is a pager whose text c copies: the request detail (as
// curl) and the delta link view. Lines are built and sanitised once when
// it opens.
type detailView struct {
	pager
	copy string // what c copies
	what string // what it is, for the note: "the delta link"
}

func newDetailView(title string, lines []string, copy string) *detailView {
	return &detailView{pager: newPager(title, lines), copy: copy}
}

// requestDetail lays out one exchange: what was asked, what came back,
// how long it took and the body (pretty JSON, OData annotations marked).
func requestDetail(e reqlog.Entry, st Styles) *detailView {
	x := e.Exchange
	clean := termtext.Sanitize
	status := statusText(e)
	title := fmt.Sprintf("%s %s · %s · %dms · %s", e.Method, status, e.Time.Format("15:04:05"), e.MS, bytesText(e.Bytes))
	if e.RequestID != "" {
		title += " · request id " + e.RequestID
	}
	var out []string
	section := func(name string) { out = append(out, "", st.Name.Render(name)) }
	out = append(out, st.Name.Render("URL"), "  "+clean(e.URL))
	if e.Error != "" {
		out = append(out, "", st.Deleted.Render("error: "+clean(e.Error)))
	}
	if x == nil {
		return newDetailView(clean(title), append(out, "", st.Dim.Render("No headers or body were captured for this request.")), "")
	}
	section("Request headers")
	out = append(out, headerLines(x.RequestHeader, st)...)
	if len(x.RequestBody) > 0 {
		section("Request body")
		out = append(out, "  "+clean(string(x.RequestBody)))
	}
	if x.Status != 0 {
		section(fmt.Sprintf("Response %d %s", x.Status, clean(x.StatusText)))
		out = append(out, headerLines(x.ResponseHeader, st)...)
	} else {
		section("Response")
		out = append(out, st.Deleted.Render("  no answer: "+clean(x.Err)))
	}
	section("Timing")
	t := x.Timings
	var parts []string
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"blocked", t.Blocked}, {"dns", t.DNS}, {"connect", t.Connect}, {"tls", t.SSL}, {"send", t.Send}, {"wait", t.Wait}, {"receive", t.Receive}} {
		if p.d >= 0 {
			parts = append(parts, fmt.Sprintf("%s %s", p.name, msText(p.d)))
		}
	}
	out = append(out, "  "+strings.Join(parts, " · ")+" · total "+msText(t.Total()))
	section("Body")
	size := bytesText(x.BodySize)
	switch {
	case x.Body == nil && x.BodySize > 0:
		out = append(out, st.Dim.Render("  "+size+"; no longer kept (the log keeps the bodies of the newest requests)"))
	case x.BodySize == 0:
		out = append(out, st.Dim.Render("  empty"))
	default:
		note := "  " + size
		if len(x.Body) < int(x.BodySize) {
			note += fmt.Sprintf(" · the first %s shown", bytesText(int64(len(x.Body))))
		}
		if !x.Complete {
			note += " · the body did not arrive whole"
		}
		out = append(out, st.Dim.Render(note))
		for _, l := range strings.Split(prettyJSON(x.Body), "\n") {
			l = clean(l)
			if isAnnotation(l) {
				out = append(out, st.Marker.Render("  "+l))
			} else {
				out = append(out, "  "+l)
			}
		}
	}
	return newDetailView(clean(title), out, x.Curl())
}

func statusText(e reqlog.Entry) string {
	switch {
	case e.Status == 0:
		return "no answer"
	case e.Error != "":
		return fmt.Sprintf("%d error", e.Status)
	}
	return fmt.Sprint(e.Status)
}

func msText(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// headerLines lists headers sorted by name; the ones this tool is about
// (Prefer, Preference-Applied, OData-Version, Retry-After, Location, the
// request id) are marked.
func headerLines(h http.Header, st Styles) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []string
	for _, k := range names {
		for _, v := range h[k] {
			line := "  " + termtext.Sanitize(headerName(k)) + ": " + termtext.Sanitize(v)
			if odataHeader(k) {
				line = st.Marker.Render(line)
			}
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		out = append(out, st.Dim.Render("  none"))
	}
	return out
}

// headerName spells OData's headers as the protocol does; Go keeps names
// in canonical form (Odata-Version).
func headerName(k string) string {
	switch k {
	case "Odata-Version":
		return "OData-Version"
	case "Odata-Maxversion":
		return "OData-MaxVersion"
	case "Odata-Entityid":
		return "OData-EntityId"
	}
	return k
}

func odataHeader(name string) bool {
	switch strings.ToLower(name) {
	case "prefer", "preference-applied", "odata-version", "odata-maxversion", "retry-after", "location",
		"request-id", "x-ms-request-id", "ms-correlation-x", "x-correlation-id", "x-request-id", "client-request-id":
		return true
	}
	return false
}

// isAnnotation says a line of pretty JSON is an OData annotation member
// ("@odata.nextLink": ..., "@removed": ...).
func isAnnotation(l string) bool {
	t := strings.TrimLeft(l, " ")
	return strings.HasPrefix(t, `"@`) || strings.HasPrefix(t, `"odata.`)
}

// prettyJSON indents JSON, also when it was cut short (the first 64 KB of
// a page), which encoding/json refuses. Anything that is not JSON comes
// back as it is.
func prettyJSON(b []byte) string {
	t := strings.TrimSpace(string(b))
	if t == "" || t[0] != '{' && t[0] != '[' {
		return string(b)
	}
	var out strings.Builder
	depth, inString, escaped := 0, false, false
	newline := func() {
		out.WriteByte('\n')
		out.WriteString(strings.Repeat("  ", max(0, depth)))
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if inString {
			out.WriteByte(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			out.WriteByte(c)
		case '{', '[':
			out.WriteByte(c)
			if j := nextNonSpace(t, i+1); j < len(t) && (t[j] == '}' || t[j] == ']') {
				out.WriteByte(t[j])
				i = j
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			out.WriteByte(c)
		case ',':
			out.WriteByte(c)
			newline()
		case ':':
			out.WriteString(": ")
		case ' ', '\t', '\n', '\r':
		default:
			out.WriteByte(c)
		}
	}
	return out.String()
}

func nextNonSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}
