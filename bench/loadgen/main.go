// Command loadgen sends GET requests to one URL at a constant rate, open loop: request n
// leaves at start + n/rate whatever the answers before it, each on its own goroutine. It
// runs until its stdin closes (or -limit seconds), waits for the answers, then prints one
// JSON list of samples [scheduled CLOCK_MONOTONIC seconds, ms from scheduled time to
// answer, status (0: none), body (or the error)] and, on stderr, how late it sent.
//
// The benchmarks use it instead of a Python client: at 200 requests/s an asyncio client's
// own queueing reached a second while curl through the same path answered in 47 ms.
// Standard library only; bench/loadgen.py builds it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// monotonic reads CLOCK_MONOTONIC, the clock Python's time.monotonic() reads, so the
// samples line up with the caller's times.
func monotonic() float64 {
	var ts syscall.Timespec
	const clockMonotonic = 1
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0)
	return float64(ts.Sec) + float64(ts.Nsec)/1e9
}

type sample struct {
	due    float64
	ms     float64
	status int
	body   string
}

func (s sample) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{s.due, s.ms, s.status, s.body})
}

func get(client *http.Client, url string) (int, string) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, fmt.Sprintf("%T", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return 0, fmt.Sprintf("%T", err)
	}
	return resp.StatusCode, strings.TrimSpace(string(body))
}

func main() {
	rate := flag.Float64("rate", 200, "requests per second")
	limit := flag.Float64("limit", 600, "seconds at most")
	flag.Parse()
	if flag.NArg() != 1 || *rate <= 0 {
		fmt.Fprintln(os.Stderr, "usage: loadgen [-rate N] [-limit S] URL")
		os.Exit(2)
	}
	url := flag.Arg(0)
	stop := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(stop) }()

	transport := &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	var (
		mu      sync.Mutex
		samples = []sample{} // printed as [] when no request was sent
		wg      sync.WaitGroup
		maxLate time.Duration
	)
	start, base := time.Now(), monotonic()
	deadline := start.Add(time.Duration(*limit * float64(time.Second)))
send:
	for n := 0; ; n++ {
		offset := time.Duration(float64(n) / *rate * float64(time.Second))
		due := start.Add(offset)
		if due.After(deadline) {
			break send
		}
		select {
		case <-stop:
			break send
		case <-time.After(time.Until(due)):
		}
		maxLate = max(maxLate, time.Since(due))
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, body := get(client, url)
			s := sample{base + offset.Seconds(), float64(time.Since(due)) / 1e6, status, body}
			mu.Lock()
			samples = append(samples, s)
			mu.Unlock()
		}()
	}
	wg.Wait()
	fmt.Fprintf(os.Stderr, "loadgen: %d requests, sent at most %.1f ms late\n", len(samples),
		float64(maxLate)/1e6)
	if err := json.NewEncoder(os.Stdout).Encode(samples); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}
