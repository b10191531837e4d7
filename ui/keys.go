package ui

import "github.com/charmbracelet/bubbles/key"

// keyMap is every binding of the program (the help line is helpLine). Bindings that do not apply in the
// current state are disabled by Model.syncKeys, so help never lies.
type keyMap struct {
	Refresh, RefreshAll, Auto, Faster, Slower, Rebaseline key.Binding
	RebaselineAll                                         key.Binding
	Tab, Up, Down, Top, Bottom, PageUp, PageDown          key.Binding
	Open, Back, Filter, Help, Copy, Log, Quit             key.Binding
	Company                                               key.Binding
	Curl, DeltaLink                                       key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Refresh:       key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		RefreshAll:    key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "refresh all")),
		Auto:          key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "auto on/off")),
		Faster:        key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "shorter interval")),
		Slower:        key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "longer interval")),
		Rebaseline:    key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "re-baseline")),
		RebaselineAll: key.NewBinding(key.WithKeys("B"), key.WithHelp("B", "re-baseline all")),
		Tab:           key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "switch pane")),
		Up:            key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:          key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Top:           key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:        key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
		PageUp:        key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown:      key.NewBinding(key.WithKeys("pgdown", "ctrl+d", " "), key.WithHelp("pgdn", "page down")),
		Open:          key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:          key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Filter:        key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Help:          key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Copy:          key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy JSON")),
		Log:           key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "request log")),
		Company:       key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "company")),
		Curl:          key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy curl")),
		DeltaLink:     key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "delta link")),
		Quit:          key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// FullHelp is the ? overlay, in columns.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Refresh, k.RefreshAll, k.Auto, k.Slower, k.Faster, k.Rebaseline, k.RebaselineAll},
		{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown},
		{k.Tab, k.Open, k.Back, k.Copy, k.Filter, k.Log, k.Curl, k.DeltaLink, k.Company, k.Help, k.Quit},
	}
}
