package deltaclient

import (
	"context"
	"io"
	"sync/atomic"
)

// Page bodies are kept whole for as long as the snapshot holds their
// records, so readBody aims for a slice of exactly the body's size, read
// with as few copies and as little transient memory as possible.

// sizeHint remembers the size of the last body read without a
// Content-Length in one baseline or round: the pages of one listing are
// about the same size, so the next body is read into a buffer of that size
// and usually needs no copy.
type sizeHint struct{ last atomic.Int64 }

type sizeHintKey struct{}

func withSizeHint(ctx context.Context, h *sizeHint) context.Context {
	return context.WithValue(ctx, sizeHintKey{}, h)
}

func sizeHintOf(ctx context.Context) *sizeHint {
	h, _ := ctx.Value(sizeHintKey{}).(*sizeHint)
	return h
}

const (
	firstChunk = 256 << 10 // a body of unknown size with no hint starts here
	chunkSize  = 1 << 20   // the rest arrives in chunks of this size

	// prefaultMin is the smallest buffer whose pages are mapped before it
	// is filled: smaller ones mostly land in memory the allocator has
	// mapped already, and the call would cost more than it saves.
	prefaultMin = 256 << 10
	// prefaultStep is how far ahead of the data a buffer's pages are
	// mapped, so a body shorter than its buffer maps little more than it
	// fills.
	prefaultStep = 1 << 20
)

// newBuffer is make([]byte, n) with its pages mapped (prefault), for a
// buffer about to be filled whole by a copy.
func newBuffer(n int64) []byte {
	b := make([]byte, n)
	prefault(b)
	return b
}

// readFull is io.ReadFull mapping b's pages (prefault) a step ahead of
// the data, up to byte mapped: past it the pages fault in only where data
// lands, so the slack of a buffer sized by a guess is not made resident.
// A goroutine maps the steps the reader has not reached, so the mapping
// overlaps the wait for the data and the copy instead of adding to them;
// each step is mapped once, by whichever of the two claims it first.
func readFull(r io.Reader, b []byte, mapped int) (int, error) {
	m := &mapper{b: b[:min(max(mapped, 0), len(b))]}
	m.steps = (len(m.b) + prefaultStep - 1) / prefaultStep
	if m.steps > 1 {
		go m.run()
		defer m.stop()
	}
	off := 0
	for off < len(b) {
		m.upTo(off / prefaultStep)
		n, err := io.ReadFull(r, b[off:min(len(b), off+prefaultStep)])
		off += n
		if err != nil {
			if err == io.EOF && off > 0 {
				err = io.ErrUnexpectedEOF
			}
			return off, err
		}
	}
	return off, nil
}

// mapper hands out the steps of a buffer to be mapped, in order, each
// once, to the reader and to a goroutine running ahead of it.
type mapper struct {
	b     []byte
	steps int
	next  atomic.Int64 // the first step nobody has claimed
}

func (m *mapper) mapStep(i int) {
	prefault(m.b[i*prefaultStep : min(len(m.b), (i+1)*prefaultStep)])
}

// upTo maps the unclaimed steps up to and including k.
func (m *mapper) upTo(k int) {
	for {
		n := m.next.Load()
		if n > int64(min(k, m.steps-1)) {
			return
		}
		if m.next.CompareAndSwap(n, n+1) {
			m.mapStep(int(n))
		}
	}
}

// run maps steps until none is left unclaimed.
func (m *mapper) run() {
	for {
		n := m.next.Add(1) - 1
		if n >= int64(m.steps) {
			return
		}
		m.mapStep(int(n))
	}
}

// stop leaves the steps nobody has claimed unmapped: the read failed.
func (m *mapper) stop() { m.next.Store(int64(m.steps)) }

// readBody reads a whole body into a slice of exactly its size. With a
// Content-Length that is one allocation. Without one (chunked, or gzip
// that Go's transport decoded), the body is read into a first buffer sized
// by the hint, then into fixed-size chunks, and copied once into a slice
// of its size: never a doubling buffer, so reading stops at limit bytes
// (the countingReader's bound) having held at most limit plus one chunk,
// and a body that arrives whole peaks at twice its size, not four times.
func readBody(r io.Reader, length, limit int64, hint *sizeHint) ([]byte, error) {
	if length > 0 && length < 1<<31 && length <= limit {
		b := make([]byte, length)
		n, err := readFull(r, b, len(b))
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return b[:n], networkError(io.ErrUnexpectedEOF)
		}
		return b, err
	}
	guess, likely := int64(firstChunk), int64(firstChunk)
	if hint != nil {
		if last := hint.last.Load(); last > 0 {
			// Pages of one listing vary by a few percent.
			guess, likely = last+last/32+4096, last-last/32
		}
	}
	first := make([]byte, min(guess, limit+1))
	n, err := readFull(r, first, int(likely))
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		body := first[:n:n]
		if slack := len(first) - n; slack > n/16 && slack > 4096 {
			// Kept slack would be held as long as the records are.
			body = append(newBuffer(int64(n))[:0], body...)
		}
		hint.set(int64(n))
		return body, nil
	}
	if err != nil {
		return nil, err
	}
	chunks := [][]byte{first}
	total := int64(n)
	for {
		c := make([]byte, min(chunkSize, max(limit+1-total, 1)))
		n, err := readFull(r, c, len(c))
		if n > 0 {
			chunks = append(chunks, c[:n])
			total += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	body := newBuffer(total)[:0]
	for i, c := range chunks {
		body = append(body, c...)
		chunks[i] = nil
	}
	hint.set(total)
	return body, nil
}

func (h *sizeHint) set(n int64) {
	if h != nil {
		h.last.Store(n)
	}
}

// maxBody is Client.MaxBody with its default.
func (c *Client) maxBody() int64 {
	if c.MaxBody > 0 {
		return c.MaxBody
	}
	return 256 << 20
}
