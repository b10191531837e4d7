// Package candidates measures the embedded stores deltascope's session
// store could be built on, on the operations it does: a baseline written
// record by record or in large chunks, read back, a 100,000-change round
// (history, key index, changed records) committed in one transaction, and
// a record's history found by key. It is a module of its own so the
// product does not carry the candidate it did not choose.
//
//	cd store/candidates && go test -bench . -benchtime 1x
package candidates

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	_ "modernc.org/sqlite"
)

const (
	records = 200_000 // 118 MB of BC-shaped JSON; the ratios hold at 1M
	changes = 100_000
	chunk   = 16 << 20
)

func customer(b []byte, i, version int) []byte {
	return fmt.Appendf(b, `{"@odata.etag":"W/\"JzE5OzE2NTU0MzYxNjY3OTk2NzU3NjE3MTswMDsn%06d\"","id":"6cb4e290-a784-4105-b340-%012d","number":"%d","displayName":"Customer %d Corporation","type":"Company","addressLine1":"%d Main Street","addressLine2":"","city":"Atlanta","state":"GA","country":"US","postalCode":"31772","phoneNumber":"+1 404 555 %04d","email":"info@customer%d.example.com","website":"www.customer%d.example.com","salespersonCode":"PS","balanceDue":%d.%02d,"creditLimit":%d,"taxLiable":true,"currencyCode":"USD","blocked":" ","lastModifiedDateTime":"2026-11-0%dT08:00:00Z"}`,
		version%1000000, i, 10000+i*10, i, i%9000, i%10000, i, i, i%50000, i%100, 5000*(1+i%20), 1+version%9)
}

func id(i int) string { return fmt.Sprintf("6cb4e290-a784-4105-b340-%012d", i) }

// candidate is one store under test.
type candidate interface {
	putRecords(ids []string, raws [][]byte) error // one transaction
	putChunks(chunks [][]byte) error              // one transaction per chunk
	loadRecords() (int, error)
	loadChunks() (int, error)
	commitRound(round int, ids []string, raws [][]byte) error
	history(key string) (int, error)
	close()
}

func data() ([]string, [][]byte, [][]byte, int) {
	ids := make([]string, records)
	raws := make([][]byte, records)
	var chunks [][]byte
	var c []byte
	total := 0
	for i := range records {
		ids[i], raws[i] = id(i), customer(nil, i, 0)
		total += len(raws[i])
		c = binary.AppendUvarint(c, uint64(len(ids[i])))
		c = append(c, ids[i]...)
		c = binary.AppendUvarint(c, uint64(len(raws[i])))
		c = append(c, raws[i]...)
		if len(c) >= chunk {
			chunks, c = append(chunks, c), nil
		}
	}
	return ids, raws, append(chunks, c), total
}

func BenchmarkCandidates(b *testing.B) {
	ids, raws, chunks, jsonBytes := data()
	cids := make([]string, changes)
	craws := make([][]byte, changes)
	for i := range changes {
		cids[i], craws[i] = ids[(i*7)%records], customer(nil, (i*7)%records, 1)
	}
	for _, name := range []string{"bbolt", "sqlite"} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				dir := b.TempDir()
				c := open(b, name, dir)
				ms := func(f func() error) float64 {
					t0 := time.Now()
					if err := f(); err != nil {
						b.Fatal(err)
					}
					return float64(time.Since(t0).Microseconds()) / 1000
				}
				b.ReportMetric(ms(func() error { return c.putRecords(ids, raws) }), "ms-put-records")
				b.ReportMetric(ms(func() error { return c.putChunks(chunks) }), "ms-put-chunks")
				b.ReportMetric(ms(func() error { _, err := c.loadRecords(); return err }), "ms-load-records")
				b.ReportMetric(ms(func() error { _, err := c.loadChunks(); return err }), "ms-load-chunks")
				for r := 1; r <= 10; r++ {
					d := ms(func() error { return c.commitRound(r, cids, craws) })
					if r == 1 {
						b.ReportMetric(d, "ms-round-100k")
					}
				}
				n := 0
				b.ReportMetric(ms(func() error { var err error; n, err = c.history(ids[4242]); return err }), "ms-history-key")
				if n != 10 {
					b.Fatalf("history found %d changes, want 10", n)
				}
				c.close()
				var size int64
				filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
					if err == nil && !fi.IsDir() {
						size += fi.Size()
					}
					return nil
				})
				// records, chunks of the same records, 1M history rows
				b.ReportMetric(float64(size)/float64(jsonBytes), "disk/json")
			}
		})
	}
}

func open(b *testing.B, name, dir string) candidate {
	switch name {
	case "bbolt":
		db, err := bolt.Open(filepath.Join(dir, "s.db"), 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType})
		if err != nil {
			b.Fatal(err)
		}
		return &boltStore{db}
	}
	// WAL with synchronous FULL: every commit durable, as bbolt's are.
	db, err := sql.Open("sqlite", filepath.Join(dir, "s.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE TABLE records (id TEXT PRIMARY KEY, raw BLOB) WITHOUT ROWID`,
		`CREATE TABLE chunks (n INTEGER PRIMARY KEY, data BLOB)`,
		`CREATE TABLE history (round INTEGER, i INTEGER, id TEXT, change BLOB, PRIMARY KEY (round, i))`,
		`CREATE INDEX history_id ON history (id)`,
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	return &sqliteStore{db}
}

type boltStore struct{ db *bolt.DB }

func (s *boltStore) putRecords(ids []string, raws [][]byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		bk, _ := tx.CreateBucketIfNotExists([]byte("records"))
		for i := range ids {
			if err := bk.Put([]byte(ids[i]), raws[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *boltStore) putChunks(chunks [][]byte) error {
	for n, c := range chunks {
		err := s.db.Update(func(tx *bolt.Tx) error {
			bk, _ := tx.CreateBucketIfNotExists([]byte("chunks"))
			bk.FillPercent = 1
			return bk.Put(binary.BigEndian.AppendUint64(nil, uint64(n)), c)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *boltStore) loadRecords() (n int, err error) {
	return n, s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("records")).ForEach(func(k, v []byte) error {
			_ = append([]byte(nil), v...)
			n++
			return nil
		})
	})
}

func (s *boltStore) loadChunks() (n int, err error) {
	return n, s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("chunks")).ForEach(func(k, v []byte) error {
			_ = append([]byte(nil), v...)
			n++
			return nil
		})
	})
}

// commitRound puts keys in ascending order per bucket, as the store does:
// random inserts into bbolt's in-memory nodes are quadratic in a large
// transaction (unsorted, this round takes tens of seconds).
func (s *boltStore) commitRound(round int, ids []string, raws [][]byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		h, _ := tx.CreateBucketIfNotExists([]byte("history"))
		h.FillPercent = 1
		k, _ := tx.CreateBucketIfNotExists([]byte("keys"))
		recs := tx.Bucket([]byte("records"))
		var index [][]byte
		for i := range ids {
			hk := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, uint64(round)), uint32(i))
			if err := h.Put(hk, raws[i]); err != nil {
				return err
			}
			index = append(index, append(append([]byte(ids[i]), 0), hk...))
		}
		slices.SortFunc(index, bytes.Compare)
		for _, key := range index {
			if err := k.Put(key, nil); err != nil {
				return err
			}
		}
		order := make([]int, len(ids))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(ids[a], ids[b]) })
		for _, i := range order {
			if err := recs.Put([]byte(ids[i]), raws[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *boltStore) history(key string) (n int, err error) {
	return n, s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte("keys")).Cursor()
		h := tx.Bucket([]byte("history"))
		p := append([]byte(key), 0)
		for k, _ := c.Seek(p); k != nil && string(k[:len(p)]) == string(p); k, _ = c.Next() {
			if h.Get(k[len(p):]) != nil {
				n++
			}
		}
		return nil
	})
}

func (s *boltStore) close() { s.db.Close() }

type sqliteStore struct{ db *sql.DB }

func (s *sqliteStore) tx(f func(*sql.Tx) error) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *sqliteStore) putRecords(ids []string, raws [][]byte) error {
	return s.tx(func(tx *sql.Tx) error {
		st, err := tx.Prepare(`INSERT INTO records (id, raw) VALUES (?, ?)`)
		if err != nil {
			return err
		}
		for i := range ids {
			if _, err := st.Exec(ids[i], raws[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *sqliteStore) putChunks(chunks [][]byte) error {
	for n, c := range chunks {
		if err := s.tx(func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO chunks (n, data) VALUES (?, ?)`, n, c)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

func (s *sqliteStore) load(q string) (n int, err error) {
	rows, err := s.db.Query(q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var v []byte
		if err := rows.Scan(&v); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

func (s *sqliteStore) loadRecords() (int, error) { return s.load(`SELECT raw FROM records`) }
func (s *sqliteStore) loadChunks() (int, error)  { return s.load(`SELECT data FROM chunks`) }

func (s *sqliteStore) commitRound(round int, ids []string, raws [][]byte) error {
	return s.tx(func(tx *sql.Tx) error {
		h, err := tx.Prepare(`INSERT INTO history (round, i, id, change) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		r, err := tx.Prepare(`INSERT OR REPLACE INTO records (id, raw) VALUES (?, ?)`)
		if err != nil {
			return err
		}
		for i := range ids {
			if _, err := h.Exec(round, i, ids[i], raws[i]); err != nil {
				return err
			}
			if _, err := r.Exec(ids[i], raws[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *sqliteStore) history(key string) (int, error) {
	rows, err := s.db.Query(`SELECT change FROM history WHERE id = ? ORDER BY round, i`, key)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

func (s *sqliteStore) close() { s.db.Close() }
