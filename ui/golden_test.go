package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

// TestGolden pins what the screen looks like in each state, at three
// sizes, in the Ascii profile with a fixed clock and seeded data. Refresh
// with: go test ./ui -run TestGolden -update
func TestGolden(t *testing.T) {
	states := []struct {
		name  string
		setup func(f *fixture)
	}{
		{"loading", func(f *fixture) {
			for i := range f.m.entities {
				f.m.start(i, opBaseline)
			}
			f.m.entities[0].progress.Store(&deltaclient.Progress{Pages: 3, Records: 3000, Bytes: 1_572_864, Count: 12000})
			f.m.entities[1].progress.Store(&deltaclient.Progress{Pages: 1, Records: 1000, Bytes: 524_288, Count: -1})
			f.m.Update(spinner.TickMsg{})
		}},
		{"tracking", func(f *fixture) {
			f.start()
			ids := f.srv.IDs("customers")
			f.srv.Update("customers", ids[3], map[string]any{"displayName": "Super Cloud"})
			f.srv.Delete("customers", ids[7])
			f.srv.Add("customers", map[string]any{"displayName": "Alpine Ski House"})
			f.srv.Update("customers", ids[4], map[string]any{"city": "Oslo"})
			f.press("r", "tab")
		}},
		{"gone", func(f *fixture) {
			f.start()
			f.srv.Expire("customers")
			f.press("r")
		}},
		{"unsupported", func(f *fixture) {
			f.start()
			f.selectEntity("balanceSheet")
		}},
		{"record", func(f *fixture) {
			f.start()
			ids := f.srv.IDs("customers")
			f.srv.Update("customers", ids[3], map[string]any{"displayName": "Super Cloud"})
			f.press("r", "tab", "j", "enter")
		}},
		{"help", func(f *fixture) {
			f.start()
			f.press("?")
		}},
	}
	for _, st := range states {
		for _, sz := range [][2]int{{80, 24}, {120, 40}, {40, 10}} {
			name := st.name + "_" + itoa(sz[0]) + "x" + itoa(sz[1])
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, deltatest.Options{Seed: 7, Records: 30})
				f.size(sz[0], sz[1])
				st.setup(f)
				view := ansi.Strip(f.m.View())
				view = strings.ReplaceAll(view, f.srv.URL, "http://127.0.0.1:PORT")
				teatest.RequireEqualOutput(t, []byte(view))
			})
		}
	}
}

func itoa(n int) string { return count(n) }
