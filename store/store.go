// Package store keeps deltascope sessions on disk: per followed entity set
// its snapshot (the records' raw JSON as they arrived), its delta link and
// the history of every round's changes, so a later run resumes where the
// last one stopped. Each session is one bbolt file under a state
// directory; every baseline and round is committed in one transaction.
package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// formatVersion is written into every session; a file with another
// version is refused rather than guessed at.
const formatVersion = "deltascope-session-5"

const ext = ".session"

// DefaultDir is $XDG_STATE_HOME/deltascope, else ~/.local/state/deltascope.
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "deltascope"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for the session store (%v); pass --state-dir", err)
	}
	return filepath.Join(home, ".local", "state", "deltascope"), nil
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// CheckName says whether name can be a session name: letters, digits,
// '.', '_' and '-', so it is a plain file name on every system.
func CheckName(name string) error {
	if !validName.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("session name %q: use letters, digits, '.', '_' and '-' (at most 128)", name)
	}
	return nil
}

// NameFor derives a session name from a service root and company, so the
// same service gets the same session without naming one: the host, then a
// short hash of root and company that keeps two services on one host apart.
func NameFor(serviceRoot, company string) string {
	host := serviceRoot
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	if i := strings.LastIndex(host, "@"); i >= 0 {
		host = host[i+1:] // never a user name in a file name
	}
	var b strings.Builder
	for _, r := range strings.ToLower(host) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	slug := strings.Trim(b.String(), "-.")
	if len(slug) > 60 {
		slug = slug[:60]
	}
	if slug == "" {
		slug = "service"
	}
	return fmt.Sprintf("%s-%08x", slug, fnv32(strings.TrimRight(serviceRoot, "/")+"\x00"+company))
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// CorruptError is a session file that cannot be read: damaged, or written
// by an incompatible version. It is never overwritten silently.
type CorruptError struct {
	Path string
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("session store %s cannot be read (%v); run again with --fresh to discard it and take a new baseline", e.Path, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// LockedError is a session another process has open for writing.
type LockedError struct {
	Name string
	PID  int
}

func (e *LockedError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = fmt.Sprintf("pid %d", e.PID)
	}
	return fmt.Sprintf("session %s in use by %s; wait for it to end, or pass another --session (history and snapshot can read it meanwhile)", e.Name, who)
}

// NotFoundError is a session or entity the store does not hold.
type NotFoundError struct{ What string }

func (e *NotFoundError) Error() string { return e.What }

// Session is an open session. A writable session holds its lock until
// Close; the bbolt file itself is opened only for each load or commit,
// so history and snapshot can read it while a watch runs.
type Session struct {
	Name     string
	Path     string
	readOnly bool
	lock     *os.File

	mu      sync.Mutex // one transaction at a time, across entities
	db      *bolt.DB   // open while baselines are being written, else nil
	writers int        // baseline writers using db

	imu      sync.Mutex     // guards indexing
	indexing bool           // an indexLater goroutine is about to start
	noIndex  bool           // tests: leave rounds unindexed, as after a kill
	wg       sync.WaitGroup // indexLater goroutines
}

// Path is the file of session name in dir.
func Path(dir, name string) string { return filepath.Join(dir, name+ext) }

// Open opens (creating when needed) session name in dir for writing. It
// fails with *LockedError when another process has it open, and with
// *CorruptError when the file is not a readable session; fresh discards
// whatever is stored first.
func Open(dir, name, service string, fresh bool) (*Session, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("session store: %w (pass a writable --state-dir)", err)
	}
	s := &Session{Name: name, Path: Path(dir, name)}
	lock, err := acquire(s.Path+".lock", name)
	if err != nil {
		return nil, err
	}
	s.lock = lock
	if fresh {
		if err := os.Remove(s.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.Close()
			return nil, fmt.Errorf("session store: %w", err)
		}
		for _, f := range baseFiles(s.Path) {
			os.Remove(f)
		}
	}
	err = s.update(func(tx *bolt.Tx) error {
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		switch v := m.Get(keyVersion); {
		case v == nil:
			m.Put(keyVersion, []byte(formatVersion))
			m.Put(keyCreated, timeBytes(time.Now()))
			return m.Put(keyService, []byte(service))
		case string(v) != formatVersion:
			return &CorruptError{Path: s.Path, Err: fmt.Errorf("written by an incompatible version (%q)", v)}
		}
		return nil
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenReadOnly opens an existing session for reading; it works while
// another process writes it.
func OpenReadOnly(dir, name string) (*Session, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	s := &Session{Name: name, Path: Path(dir, name), readOnly: true}
	if _, err := os.Stat(s.Path); err != nil {
		return nil, &NotFoundError{What: fmt.Sprintf("no session %q in %s (deltascope sessions --state-dir %s lists them)", name, dir, dir)}
	}
	err := s.view(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil {
			// Created, then killed before its first commit: nothing in it.
			return &NotFoundError{What: fmt.Sprintf("session %q in %s holds nothing yet", name, dir)}
		}
		if v := m.Get(keyVersion); string(v) != formatVersion {
			return &CorruptError{Path: s.Path, Err: fmt.Errorf("written by an incompatible version (%q)", v)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Close releases the session's lock.
func (s *Session) Close() error {
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db != nil {
		s.db.Close()
		s.db = nil
	}
	if s.lock != nil {
		release(s.lock)
		s.lock = nil
	}
	return nil
}

// open opens the bbolt file; the caller holds s.mu.
func (s *Session) open() (*bolt.DB, func(), error) {
	if s.db != nil {
		return s.db, func() {}, nil
	}
	db, err := bolt.Open(s.Path, 0o600, &bolt.Options{Timeout: 10 * time.Second, ReadOnly: s.readOnly, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, nil, fmt.Errorf("session store %s: busy for more than 10s; try again", s.Path)
		}
		var ce *CorruptError
		if errors.As(err, &ce) {
			return nil, nil, err
		}
		if os.IsPermission(err) {
			return nil, nil, fmt.Errorf("session store: %w", err)
		}
		return nil, nil, &CorruptError{Path: s.Path, Err: err}
	}
	return db, func() { db.Close() }, nil
}

func (s *Session) update(fn func(*bolt.Tx) error) error {
	if s.readOnly {
		return errors.New("session store: opened read-only")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	db, done, err := s.open()
	if err != nil {
		return err
	}
	defer done()
	return guard(s.Path, func() error { return db.Update(fn) })
}

func (s *Session) view(fn func(*bolt.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	db, done, err := s.open()
	if err != nil {
		return err
	}
	defer done()
	return guard(s.Path, func() error { return db.View(fn) })
}

// guard turns a panic from reading a damaged file into a CorruptError:
// bbolt trusts its pages, and a torn or edited file must not crash the
// program that merely wanted to resume.
func guard(path string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &CorruptError{Path: path, Err: fmt.Errorf("%v", r)}
		}
	}()
	err = fn()
	if errors.Is(err, errDamaged) {
		err = &CorruptError{Path: path, Err: err}
	}
	return err
}

// Summary describes a stored session for `deltascope sessions`.
type Summary struct {
	Name      string
	Service   string
	Entities  []string
	Records   int
	LastRound time.Time // the last committed baseline or round
	Size      int64     // bytes on disk
	Err       error     // set when the session cannot be read
}

// List describes every session in dir, by name.
func List(dir string) ([]Summary, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*"+ext))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Summary
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ext)
		sum := Summary{Name: name}
		for _, f := range append(baseFiles(f), f) {
			if fi, err := os.Stat(f); err == nil {
				sum.Size += fi.Size()
			}
		}
		s, err := OpenReadOnly(dir, name)
		if err != nil {
			sum.Err = err
			out = append(out, sum)
			continue
		}
		sum.Err = s.view(func(tx *bolt.Tx) error {
			sum.Service = string(tx.Bucket(bucketMeta).Get(keyService))
			return eachEntity(tx, func(name string, b *bolt.Bucket) error {
				st := readState(b)
				if !st.Baselined() {
					return nil
				}
				sum.Entities = append(sum.Entities, name)
				sum.Records += st.Records
				if st.Since.After(sum.LastRound) {
					sum.LastRound = st.Since
				}
				return nil
			})
		})
		out = append(out, sum)
	}
	return out, nil
}

// Remove deletes session name from dir; it refuses while the session is
// in use.
func Remove(dir, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	p := Path(dir, name)
	if _, err := os.Stat(p); err != nil {
		return &NotFoundError{What: fmt.Sprintf("no session %q in %s", name, dir)}
	}
	lock, err := acquire(p+".lock", name)
	if err != nil {
		return err
	}
	defer func() {
		release(lock)
		os.Remove(p + ".lock")
	}()
	for _, f := range baseFiles(p) {
		os.Remove(f)
	}
	return os.Remove(p)
}
