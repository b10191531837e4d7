package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/internal/termtext"
	"github.com/deltascope/deltascope/track"
)

// Launch is what the TUI needs to open a service itself, so the terminal
// shows what it is doing from the first moment: a connecting screen, the
// company picker, then the entity sets; and, later, another company.
type Launch struct {
	// Config is the root model's settings; Trackers and Company come
	// from Open.
	Config
	// Where names the service on the connecting screen; no secrets.
	Where string
	// Timeout bounds connecting (service document, companies,
	// $metadata); 0 means no bound of its own.
	Timeout time.Duration
	// Open discovers the entity sets of a company; "" means the one the
	// flags named. A service with several companies and none named
	// answers *deltaclient.CompanyChoiceError.
	Open func(ctx context.Context, company string) (Opened, error)
	// Companies lists the companies for the switch key; nil when the
	// service has none to switch between.
	Companies func(ctx context.Context) ([]deltaclient.Company, error)
}

// Opened is one company's (or a company-less service's) entity sets.
type Opened struct {
	Trackers []*track.Tracker
	Company  *deltaclient.Company // nil when the service has no companies
	Session  string               // the stored session's name; "" for none
}

// Run shows the TUI until the user quits. Its error says why the service
// could not be opened; a user who quits gets nil.
func Run(ctx context.Context, l Launch, opts ...tea.ProgramOption) error {
	a := newApp(ctx, l)
	if !l.NoMouse {
		opts = append(opts, tea.WithMouseCellMotion())
	}
	opts = append(opts, tea.WithAltScreen(), tea.WithContext(ctx))
	if _, err := tea.NewProgram(a, opts...).Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return err
	}
	return a.err
}

type appState uint8

const (
	connecting appState = iota
	picking
	running
)

// app is the program around the root model: it connects, asks for a
// company, and swaps the root model when the company changes. Each root
// model's commands are tagged with its generation, so results of a
// replaced one are dropped.
type app struct {
	ctx    context.Context
	launch Launch
	now    func() time.Time
	styles Styles

	state   appState
	company string // the company being opened ("" at start: the flags')
	began   time.Time
	spinner spinner.Model
	picker  *picker

	model  *Model
	gen    int
	cancel context.CancelFunc // ends the running model's work
	open   *deltaclient.Company

	width, height int
	err           error
}

// Messages of the app, each for one generation.
type (
	openedMsg struct {
		gen    int
		opened Opened
		err    error
	}
	companiesMsg struct {
		gen       int
		companies []deltaclient.Company
		err       error
		// count asks only whether there is another company, so C is
		// offered only when it can do something.
		count bool
	}
	scopedMsg struct {
		gen int
		msg tea.Msg
	}
	connectTickMsg struct{ gen int }
	// switchCompanyMsg is the root model asking for the company picker.
	switchCompanyMsg struct{}
)

func newApp(ctx context.Context, l Launch) *app {
	now := l.Now
	if now == nil {
		now = time.Now
	}
	return &app{ctx: ctx, launch: l, now: now, styles: DefaultStyles(), width: 80, height: 24,
		spinner: spinner.New(spinner.WithSpinner(spinner.MiniDot))}
}

func (a *app) Init() tea.Cmd { return a.connect("") }

// connect opens company, showing the connecting screen meanwhile.
func (a *app) connect(company string) tea.Cmd {
	a.state, a.company, a.began = connecting, company, a.now()
	a.gen++
	gen, ctx, open, timeout := a.gen, a.ctx, a.launch.Open, a.launch.Timeout
	return tea.Batch(a.spinner.Tick, a.connectTick(), func() tea.Msg {
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		o, err := open(ctx, company)
		return openedMsg{gen: gen, opened: o, err: err}
	})
}

func (a *app) connectTick() tea.Cmd {
	gen := a.gen
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return connectTickMsg{gen} })
}

func (a *app) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		if a.picker != nil {
			a.picker.width = msg.Width
		}
		if a.model != nil {
			return a, a.forward(msg)
		}
	case scopedMsg:
		if msg.gen != a.gen || a.model == nil {
			return a, nil // from a replaced model
		}
		if _, ok := msg.msg.(switchCompanyMsg); ok {
			return a, a.listCompanies(false)
		}
		if a.state != running {
			// Keep the model's own work going while the picker shows.
			if _, key := msg.msg.(tea.KeyMsg); key {
				return a, nil
			}
		}
		return a, a.forward(msg.msg)
	case connectTickMsg:
		if msg.gen == a.gen && a.state == connecting {
			return a, a.connectTick()
		}
	case spinner.TickMsg:
		if a.state == connecting {
			var cmd tea.Cmd
			a.spinner, cmd = a.spinner.Update(msg)
			return a, cmd
		}
	case openedMsg:
		if msg.gen != a.gen {
			return a, nil
		}
		return a, a.opened(msg)
	case companiesMsg:
		if msg.gen != a.gen || a.state != running {
			return a, nil
		}
		if msg.count {
			a.model.switching = msg.err == nil && len(msg.companies) > 1
			a.model.syncKeys()
			return a, nil
		}
		if msg.err != nil || len(msg.companies) < 2 {
			a.model.note = "no other company to switch to"
			if msg.err != nil {
				a.model.note = "cannot list the companies: " + termtext.Sanitize(msg.err.Error())
			}
			return a, nil
		}
		current := ""
		if a.open != nil {
			current = a.open.ID
		}
		a.state, a.picker = picking, newPicker(msg.companies, current, a.styles, a.width)
	case tea.KeyMsg:
		return a, a.key(msg)
	default:
		if a.model != nil && a.state == running {
			return a, a.forward(msg)
		}
	}
	return a, nil
}

func (a *app) key(msg tea.KeyMsg) tea.Cmd {
	switch a.state {
	case connecting:
		if s := msg.String(); s == "q" || s == "ctrl+c" || s == "esc" {
			return tea.Quit
		}
		return nil
	case picking:
		a.picker.update(msg)
		switch {
		case a.picker.cancelled && a.model != nil:
			a.state, a.picker = running, nil
		case a.picker.cancelled:
			a.err = &deltaclient.CompanyChoiceError{Companies: a.picker.companies}
			return tea.Quit
		case a.picker.chosen:
			co := a.picker.choice()
			a.picker = nil
			if a.model != nil && a.open != nil && co.ID == a.open.ID {
				a.state = running
				return nil
			}
			a.stopModel()
			return a.connect(co.ID)
		}
		return nil
	}
	return a.forward(msg)
}

// opened starts the root model on what Open found, or asks for a company,
// or ends with the error.
func (a *app) opened(msg openedMsg) tea.Cmd {
	var choice *deltaclient.CompanyChoiceError
	switch {
	case errors.As(msg.err, &choice) && choice.Asked == "" && len(choice.Companies) > 0:
		a.state, a.picker = picking, newPicker(choice.Companies, "", a.styles, a.width)
		return nil
	case msg.err != nil:
		a.err = msg.err
		if errors.Is(msg.err, context.DeadlineExceeded) && a.launch.Timeout > 0 {
			a.err = fmt.Errorf("%s did not answer within --timeout %s: %w", a.launch.Where, a.launch.Timeout, msg.err)
		}
		return tea.Quit
	}
	ctx, cancel := context.WithCancel(a.ctx)
	cfg := a.launch.Config
	cfg.Context, cfg.Trackers, cfg.Session = ctx, msg.opened.Trackers, msg.opened.Session
	cfg.CanSwitchCompany = a.launch.Companies != nil && msg.opened.Company != nil
	if co := msg.opened.Company; co != nil {
		cfg.Company = co.Name
	}
	if a.model != nil {
		// Keep what the user chose for the last company.
		cfg.Interval, cfg.NoAuto = a.model.interval, !a.model.auto
	}
	a.model, a.cancel, a.open, a.state = New(cfg), cancel, msg.opened.Company, running
	init := a.model.Init()
	a.model.Update(tea.WindowSizeMsg{Width: a.width, Height: a.height})
	if cfg.CanSwitchCompany {
		return tea.Batch(a.scope(init), a.listCompanies(true))
	}
	return a.scope(init)
}

func (a *app) stopModel() {
	if a.cancel != nil {
		a.cancel()
	}
	a.model, a.cancel = nil, nil
}

// listCompanies asks the service for its companies: to show the picker,
// or (count) to know whether C has anywhere to go.
func (a *app) listCompanies(count bool) tea.Cmd {
	list, gen, ctx := a.launch.Companies, a.gen, a.ctx
	if list == nil {
		return nil
	}
	return func() tea.Msg {
		cos, err := list(ctx)
		return companiesMsg{gen: gen, companies: cos, err: err, count: count}
	}
}

// forward gives msg to the root model and tags what it starts.
func (a *app) forward(msg tea.Msg) tea.Cmd {
	_, cmd := a.model.Update(msg)
	return a.scope(cmd)
}

// scope tags cmd's messages with the current generation; batches are
// tagged one by one and quitting passes through.
func (a *app) scope(cmd tea.Cmd) tea.Cmd {
	return scope(a.gen, cmd)
}

func scope(gen int, cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		switch msg := cmd().(type) {
		case nil:
			return nil
		case tea.QuitMsg:
			return msg
		case tea.BatchMsg:
			out := make(tea.BatchMsg, len(msg))
			for i, c := range msg {
				out[i] = scope(gen, c)
			}
			return out
		default:
			return scopedMsg{gen: gen, msg: msg}
		}
	}
}

func (a *app) View() string {
	switch a.state {
	case picking:
		return a.picker.view(a.height)
	case running:
		return a.model.View()
	}
	st := a.styles
	what := "Connecting to"
	if a.company != "" {
		what = "Opening company " + termtext.Sanitize(a.company) + " of"
	}
	elapsed := short(a.now().Sub(a.began)) + " so far"
	if a.launch.Timeout > 0 {
		elapsed += " · gives up after " + short(a.launch.Timeout) + " (--timeout)"
	}
	lines := []string{st.Bar.Render(pad(" deltascope │ connecting", a.width)), "", " " + a.spinner.View() + " " + what}
	// The address is what the user checks: wrapped, never cut.
	for _, l := range strings.Split(ansi.Hardwrap(termtext.Sanitize(a.launch.Where), max(10, a.width-3), false), "\n") {
		lines = append(lines, "   "+l)
	}
	// What is read and the elapsed time wrap too; on a terminal too short
	// for all of it the elapsed time stays and the explanation goes.
	dim := func(s string) []string {
		// At spaces only: ansi.Wrap would also break "(--timeout)" after "--".
		var out []string
		line := ""
		for _, w := range strings.Fields(s) {
			if line != "" && ansi.StringWidth(line+" "+w) > max(10, a.width-3) {
				out, line = append(out, st.Dim.Render("   "+line)), ""
			}
			line = strings.TrimPrefix(line+" "+w, " ")
		}
		return append(out, st.Dim.Render("   "+line))
	}
	reading, wait := dim("reading the service document, the companies and $metadata"), dim(elapsed)
	tail := []string{"", st.Dim.Render(" q quit")}
	if n := len(lines) + len(reading) + len(wait) + len(tail); a.height > 0 && n > a.height {
		reading = nil
	}
	lines = append(append(append(lines, reading...), wait...), tail...)
	for i := range lines {
		lines[i] = fit(lines[i], a.width)
	}
	return strings.Join(lines, "\n")
}
