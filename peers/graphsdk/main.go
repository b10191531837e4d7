// Command graphsdk compares a baseline of Graph-shaped users taken three
// ways against one in-memory server, one after the other, each in its own
// process so each has its own peak RSS: a raw download, the Microsoft
// Graph Go SDK (users delta request and page iterator, users kept in a
// map by id, as its documentation shows) and `deltascope watch`.
//
//	cd peers/graphsdk && go run . -records 200000
//
// It builds deltascope from ../.. unless -deltascope names a binary.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/microsoft/kiota-abstractions-go/authentication"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

func main() {
	records := flag.Int("records", 200_000, "users in the baseline")
	pageSize := flag.Int("page-size", 999, "users per page (Graph's largest $top)")
	bin := flag.String("deltascope", "", "the deltascope binary (default: built from ../..)")
	runs := flag.Int("runs", 3, "runs of each client; medians are printed")
	flag.Parse()
	switch os.Getenv("GRAPHSDK_CHILD") {
	case "serve":
		serve(*records, *pageSize)
		return
	case "raw":
		report(raw(os.Getenv("GRAPHSDK_URL")))
		return
	case "sdk":
		report(sdk(os.Getenv("GRAPHSDK_URL")))
		return
	}
	if err := compare(*records, *pageSize, *bin, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "graphsdk:", err)
		os.Exit(1)
	}
}

func report(n int, err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(n)
}

// user is a Graph user as /users/delta sends it, id last.
func user(b []byte, i int) []byte {
	return fmt.Appendf(b, `{"businessPhones":["+1 425 555 %04d"],"displayName":"User %d","givenName":"Given%d","jobTitle":"Engineer","mail":"user%d@contoso.example.com","mobilePhone":null,"officeLocation":"%d/%d","preferredLanguage":"en-US","surname":"Surname%d","userPrincipalName":"user%d@contoso.example.com","id":"0b1f3c2a-%04x-4e5f-8a9b-%012x"}`,
		i%10000, i, i, i, 10+i%90, 1000+i%3000, i, i, i>>48&0xffff, i)
}

// serve holds every page in memory and serves them with absolute links,
// as Graph does, until stdin closes; it prints its base URL and the JSON
// bytes of the baseline.
func serve(records, pageSize int) {
	var pages [][]byte
	var size int
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.URL.Query().Get("$deltatoken") != "" {
			body = []byte(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[],"@odata.deltaLink":"` + srv.URL + `/v1.0/users/delta?$deltatoken=2"}`)
		} else {
			n, _ := strconv.Atoi(r.URL.Query().Get("$skiptoken"))
			if n < 0 || n >= len(pages) {
				http.Error(w, "no such page", http.StatusNotFound)
				return
			}
			body = bytes.ReplaceAll(pages[n], []byte("{BASE}"), []byte(srv.URL))
		}
		w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	defer srv.Close()
	for start := 0; start < records; start += pageSize {
		b := []byte(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users",`)
		if start+pageSize < records {
			b = fmt.Appendf(b, `"@odata.nextLink":"{BASE}/v1.0/users/delta?$skiptoken=%d",`, len(pages)+1)
		}
		b = append(b, `"value":[`...)
		for i := start; i < min(start+pageSize, records); i++ {
			if i > start {
				b = append(b, ',')
			}
			b = user(b, i)
		}
		b = append(b, ']')
		if start+pageSize >= records {
			b = append(b, `,"@odata.deltaLink":"{BASE}/v1.0/users/delta?$deltatoken=1"`...)
		}
		b = append(b, '}')
		pages = append(pages, b)
		size += len(b) - bytes.Count(b, []byte("{BASE}"))*len("{BASE}") + bytes.Count(b, []byte("{BASE}"))*len(srv.URL)
	}
	fmt.Println(srv.URL, size)
	io.Copy(io.Discard, os.Stdin)
}

// raw reads every page into one buffer, following nextLinks, and returns
// the bytes read.
func raw(base string) (int, error) {
	var buf bytes.Buffer
	total := 0
	for u := base + "/v1.0/users/delta"; u != ""; {
		resp, err := http.Get(u)
		if err != nil {
			return 0, err
		}
		buf.Reset()
		_, err = io.Copy(&buf, resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, err
		}
		total += buf.Len()
		u = ""
		head := buf.Bytes()[:min(buf.Len(), 512)]
		const key = `"@odata.nextLink":"`
		if i := bytes.Index(head, []byte(key)); i >= 0 {
			rest := head[i+len(key):]
			u = string(rest[:bytes.IndexByte(rest, '"')])
		}
	}
	return total, nil
}

// sdk takes the baseline with the Graph SDK's delta request and page
// iterator and keeps the users in a map by id; it returns how many.
func sdk(base string) (int, error) {
	adapter, err := msgraphsdk.NewGraphRequestAdapter(&authentication.AnonymousAuthenticationProvider{})
	if err != nil {
		return 0, err
	}
	adapter.SetBaseUrl(base + "/v1.0")
	client := msgraphsdk.NewGraphServiceClient(adapter)
	ctx := context.Background()
	first, err := client.Users().Delta().GetAsDeltaGetResponse(ctx, nil)
	if err != nil {
		return 0, err
	}
	it, err := msgraphcore.NewPageIterator[models.Userable](first, adapter, users.CreateDeltaGetResponseFromDiscriminatorValue)
	if err != nil {
		return 0, err
	}
	byID := map[string]models.Userable{}
	err = it.Iterate(ctx, func(u models.Userable) bool {
		if id := u.GetId(); id != nil {
			byID[*id] = u
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if it.GetOdataDeltaLink() == nil {
		return 0, fmt.Errorf("no deltaLink after %d users", len(byID))
	}
	return len(byID), nil
}

type run struct {
	wall time.Duration
	rss  int64
	out  string
}

func child(cmd *exec.Cmd) (run, error) {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return run{}, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, errb.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return run{wall: time.Since(t0), rss: ru.Maxrss << 10, out: strings.TrimSpace(out.String())}, nil
}

func self(role, url string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "GRAPHSDK_CHILD="+role, "GRAPHSDK_URL="+url)
	return cmd
}

func compare(records, pageSize int, bin string, runs int) error {
	if bin == "" {
		dir, err := os.MkdirTemp("", "graphsdk")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "deltascope")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Dir = "../.."
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("building deltascope: %v\n%s", err, out)
		}
	}
	srv := exec.Command(os.Args[0], "-records", strconv.Itoa(records), "-page-size", strconv.Itoa(pageSize))
	srv.Env = append(os.Environ(), "GRAPHSDK_CHILD=serve")
	stdin, _ := srv.StdinPipe()
	stdout, _ := srv.StdoutPipe()
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { stdin.Close(); srv.Wait() }()
	var base string
	var size int64
	if _, err := fmt.Fscan(stdout, &base, &size); err != nil {
		return fmt.Errorf("server: %v", err)
	}
	clients := []struct {
		name string
		cmd  func() *exec.Cmd
		want string
	}{
		{"raw download", func() *exec.Cmd { return self("raw", base) }, ""},
		{"msgraph-sdk-go", func() *exec.Cmd { return self("sdk", base) }, strconv.Itoa(records)},
		{"deltascope watch", func() *exec.Cmd {
			return exec.Command(bin, "watch", "--no-session", "--entity-url", base+"/v1.0/users/delta", "--rounds", "1", "--interval", "1ms")
		}, fmt.Sprintf(`"records":%d`, records)},
	}
	fmt.Printf("%d Graph-shaped users, %.1f MB of JSON in pages of %d, medians of %d runs (%s)\n", records, float64(size)/1e6, pageSize, runs, time.Now().UTC().Format("2006-01-02"))
	for _, c := range clients {
		var walls []time.Duration
		var rss []int64
		for i := 0; i < runs; i++ {
			m, err := child(c.cmd())
			if err != nil {
				return err
			}
			if c.want != "" && !strings.Contains(m.out, c.want) {
				return fmt.Errorf("%s: want %s in its output, got %.300s", c.name, c.want, m.out)
			}
			walls, rss = append(walls, m.wall), append(rss, m.rss)
		}
		fmt.Printf("  %-18s %8.0f ms %8.0f MB peak RSS\n", c.name, float64(median(walls).Milliseconds()), float64(median(rss))/1e6)
	}
	return nil
}

func median[T int64 | time.Duration](xs []T) T {
	s := append([]T(nil), xs...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}
