package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
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

// TestGoldenApp pins the screens before the entity sets: connecting, and
// the company picker, at the three sizes.
func TestGoldenApp(t *testing.T) {
	companies := []deltaclient.Company{{ID: "1263b8de-7a2b-4442-a62a-7e3ea8cd6b49", Name: "CRONUS USA, Inc."}, {ID: "cec76cc1-acb1-4ad2-b409-c4af225fb366", Name: "CRONUS International Ltd."}, {ID: "a3dbc4b0-22a9-421c-80f8-759a58f3ae27", Name: "My Company"}}
	states := []struct {
		name  string
		setup func(a *app, ck *clock)
	}{
		{"connecting", func(a *app, ck *clock) {
			a.began = ck.t
			ck.t = ck.t.Add(3 * time.Second)
		}},
		{"picker", func(a *app, ck *clock) {
			a.opened(openedMsg{gen: a.gen, err: &deltaclient.CompanyChoiceError{Companies: companies}})
			a.picker.update(tea.KeyMsg{Type: tea.KeyDown})
		}},
	}
	for _, st := range states {
		for _, sz := range [][2]int{{80, 24}, {120, 40}, {40, 10}} {
			name := st.name + "_" + itoa(sz[0]) + "x" + itoa(sz[1])
			t.Run(name, func(t *testing.T) {
				ck := &clock{t: epoch}
				a := newApp(context.Background(), Launch{Config: Config{Now: ck.Now}, Where: "https://api.businesscentral.dynamics.com/v2.0/tenant/Production/api/v2.0", Timeout: 2 * time.Minute})
				a.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
				st.setup(a, ck)
				teatest.RequireEqualOutput(t, []byte(ansi.Strip(a.View())))
			})
		}
	}
}
