package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

func TestWrapLine(t *testing.T) {
	t.Parallel()
	prose := "The next round of customers will fetch this link, exactly as the server gave it."
	for _, l := range wrapLine(prose, 40) {
		if strings.HasSuffix(l, "wil") || strings.HasPrefix(l, "l fetch") {
			t.Errorf("prose cut mid-word: %q", wrapLine(prose, 40))
		}
	}
	url := "  http://127.0.0.1:8080/api/customers?deltaToken=eyJjIjowLCJzIjoiY3VzdG9tZXJzIn0eyJjIjow"
	got := wrapLine(url, 40)
	if !strings.HasPrefix(got[0], "  http://") || len(got) != 3 {
		t.Errorf("a long token is cut at the width in place, not pushed below a blank line: %q", got)
	}
}

// The record view, the request detail and the delta link view are one
// pager: each tells where its window is, and g/G work in the record view
// as in the others.
func TestPagerShowsItsPlace(t *testing.T) {
	t.Parallel()
	lines := make([]string, 30)
	for i := range lines {
		lines[i] = "line"
	}
	p := newPager("title", lines)
	p.setSize(40, 10)
	if got := p.view()[0]; got != "▸ title · lines 1-9 of 30" {
		t.Errorf("title %q", got)
	}
	p.update(tea.KeyMsg{Type: tea.KeyPgDown})
	if got := p.view()[0]; !strings.Contains(got, "lines 10-18 of 30") {
		t.Errorf("after pgdown: %q", got)
	}
}
