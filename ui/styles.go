package ui

import "github.com/charmbracelet/lipgloss"

// Styles are built once; View only applies them. Under NO_COLOR lipgloss
// drops colour, bold and reverse, so every style here pairs with a word or
// a symbol that carries the same meaning.
type Styles struct {
	Bar            lipgloss.Style
	Title, TitleOn lipgloss.Style
	Cursor         lipgloss.Style
	Name, Dim      lipgloss.Style
	Added, Updated lipgloss.Style
	Deleted, Field lipgloss.Style
	Old, New       lipgloss.Style
	RoundHeader    lipgloss.Style
	Rebaseline     lipgloss.Style
	Status         [stateCount]lipgloss.Style // by state
	BannerWarn     lipgloss.Style
	BannerErr      lipgloss.Style
	BannerInfo     lipgloss.Style
	Sep            lipgloss.Style
	Marker         lipgloss.Style
	Changed, Was   lipgloss.Style
	HelpKey        lipgloss.Style
}

// DefaultStyles is the colour scheme, adaptive to light and dark terminals.
func DefaultStyles() Styles {
	ac := func(light, dark string) lipgloss.AdaptiveColor {
		return lipgloss.AdaptiveColor{Light: light, Dark: dark}
	}
	green, yellow, red, blue, grey := ac("#1a7f37", "#56d364"), ac("#9a6700", "#e3b341"), ac("#cf222e", "#f85149"), ac("#0969da", "#58a6ff"), ac("#6e7781", "#8b949e")
	s := Styles{
		Bar:         lipgloss.NewStyle().Foreground(ac("#24292f", "#c9d1d9")).Background(ac("#eaeef2", "#21262d")),
		Title:       lipgloss.NewStyle().Foreground(grey),
		TitleOn:     lipgloss.NewStyle().Foreground(blue).Bold(true),
		Cursor:      lipgloss.NewStyle().Reverse(true),
		Name:        lipgloss.NewStyle().Bold(true),
		Dim:         lipgloss.NewStyle().Foreground(grey),
		Added:       lipgloss.NewStyle().Foreground(green),
		Updated:     lipgloss.NewStyle().Foreground(yellow),
		Deleted:     lipgloss.NewStyle().Foreground(red),
		Field:       lipgloss.NewStyle().Foreground(blue),
		Old:         lipgloss.NewStyle().Foreground(red),
		New:         lipgloss.NewStyle().Foreground(green),
		RoundHeader: lipgloss.NewStyle().Foreground(grey).Bold(true),
		Rebaseline:  lipgloss.NewStyle().Foreground(blue).Bold(true),
		BannerWarn:  lipgloss.NewStyle().Foreground(yellow).Bold(true),
		BannerErr:   lipgloss.NewStyle().Foreground(red).Bold(true),
		BannerInfo:  lipgloss.NewStyle().Foreground(blue),
		Sep:         lipgloss.NewStyle().Foreground(grey),
		Marker:      lipgloss.NewStyle().Foreground(blue).Bold(true),
		Changed:     lipgloss.NewStyle().Foreground(yellow).Bold(true),
		Was:         lipgloss.NewStyle().Foreground(grey),
		HelpKey:     lipgloss.NewStyle().Foreground(blue),
	}
	s.Status = [stateCount]lipgloss.Style{
		stateLoading:     lipgloss.NewStyle().Foreground(blue),
		stateQueued:      lipgloss.NewStyle().Foreground(grey),
		stateTracking:    lipgloss.NewStyle().Foreground(green),
		statePaused:      lipgloss.NewStyle().Foreground(grey),
		stateRetrying:    lipgloss.NewStyle().Foreground(yellow),
		stateUnsupported: lipgloss.NewStyle().Foreground(grey),
		statePolling:     lipgloss.NewStyle().Foreground(green),
		stateExpired:     lipgloss.NewStyle().Foreground(yellow),
		stateError:       lipgloss.NewStyle().Foreground(red),
	}
	return s
}
