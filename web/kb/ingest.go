package kb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/ingest"
	"github.com/tandemhq/tandem/retrieval/review"
)

// maxJobs bounds how many finished ingest jobs are remembered for their pages.
const maxJobs = 100

// job is one upload's ingestion. Its state is read by the progress page and its event
// stream while the ingesting goroutine updates it.
type job struct {
	ID         string
	File       string
	Collection string

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every update
	state   jobState
}

// jobState is what the progress page and each server-sent event carry.
type jobState struct {
	Done     int                    `json:"done"`
	Total    int                    `json:"total"`
	Finished bool                   `json:"finished"`
	Error    string                 `json:"error,omitempty"`
	Stats    *retrieval.IngestStats `json:"stats,omitempty"`
}

func (j *job) snapshot() (jobState, <-chan struct{}) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.state, j.changed
}

func (j *job) update(f func(*jobState)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	f(&j.state)
	close(j.changed)
	j.changed = make(chan struct{})
}

type jobs struct {
	mu    sync.Mutex
	byID  map[string]*job
	order []string
}

func newJobs() *jobs { return &jobs{byID: map[string]*job{}} }

func (js *jobs) add(j *job) {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.byID[j.ID] = j
	js.order = append(js.order, j.ID)
	for len(js.order) > maxJobs {
		old := js.byID[js.order[0]]
		if st, _ := old.snapshot(); !st.Finished {
			break // never forget a running job
		}
		delete(js.byID, js.order[0])
		js.order = js.order[1:]
	}
}

func (js *jobs) find(id string) (*job, error) {
	js.mu.Lock()
	defer js.mu.Unlock()
	j, ok := js.byID[id]
	if !ok {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "no ingest job %q (jobs are forgotten after a while)", id)
	}
	return j, nil
}

type ingestForm struct {
	Collection  string
	Collections []string
	MaxMB       int64
	Error       string
}

func (h *handler) handleIngestForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "ingest", page{Title: "Upload documents", Nav: "ingest", Data: ingestForm{
		Collection: h.cfg.DefaultCollection, Collections: h.collections(r), MaxMB: h.cfg.MaxUploadBytes >> 20,
	}})
}

// handleIngestUpload reads one uploaded file, parses it (bad files are refused here with
// 400), and starts ingesting it in the background; the browser is sent to the job's page,
// which streams progress from handleIngestEvents.
func (h *handler) handleIngestUpload(w http.ResponseWriter, r *http.Request) {
	// Room for the multipart framing and the small fields besides the file.
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxUploadBytes+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		h.fail(w, r, tandem.Errorf(tandem.EINVALID, "upload the file as multipart/form-data"))
		return
	}
	var (
		name, collection string
		data             []byte
		publish          bool
	)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			h.fail(w, r, uploadError(err))
			return
		}
		switch part.FormName() {
		case "file":
			name = path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
			if name == "" || name == "." || name == "/" {
				h.fail(w, r, tandem.Errorf(tandem.EINVALID, "choose a file to upload"))
				return
			}
			if !ingest.Supported(name) {
				h.fail(w, r, tandem.Errorf(tandem.EINVALID,
					"%q is not a supported file type; upload Markdown (.md), HTML, text (.txt), PDF, or an FAQ as CSV or JSONL", name))
				return
			}
			data, err = io.ReadAll(io.LimitReader(part, h.cfg.MaxUploadBytes+1))
			if err != nil {
				h.fail(w, r, uploadError(err))
				return
			}
			if int64(len(data)) > h.cfg.MaxUploadBytes {
				h.fail(w, r, tandem.Errorf(tandem.ETOOLARGE, "the file is larger than %d MiB", h.cfg.MaxUploadBytes>>20))
				return
			}
		case "collection":
			b, err := io.ReadAll(io.LimitReader(part, 256))
			if err != nil {
				h.fail(w, r, uploadError(err))
				return
			}
			collection = strings.TrimSpace(string(b))
		case "publish":
			publish = true
		}
	}
	if name == "" {
		h.fail(w, r, tandem.Errorf(tandem.EINVALID, "choose a file to upload"))
		return
	}
	if collection == "" {
		collection = h.cfg.DefaultCollection
	}
	if !idRE.MatchString(collection) || strings.Contains(collection, "/") {
		h.fail(w, r, tandem.Errorf(tandem.EINVALID, "the collection name may hold letters, digits, '.', '_' and '-'"))
		return
	}
	srcs, err := ingest.LoadFile(r.Context(), name, data)
	if err != nil {
		if tandem.ErrorCode(err) == tandem.EINTERNAL {
			err = tandem.Errorf(tandem.EINVALID, "cannot read %s: %v", name, err)
		}
		h.fail(w, r, err)
		return
	}
	if len(srcs) == 0 {
		h.fail(w, r, tandem.Errorf(tandem.EINVALID, "%s holds no documents", name))
		return
	}
	needsReview := h.cfg.RequireReview.Requires(collection)
	if publish && needsReview {
		h.fail(w, r, tandem.Errorf(tandem.EFORBIDDEN, "needs review: upload without publishing, then submit the drafts for review"))
		return
	}
	status := tandem.DocumentDraft
	if publish {
		status = tandem.DocumentPublished
	}
	for i := range srcs {
		srcs[i].Origin = "upload:" + name
		srcs[i].Status = status
		if err := srcs[i].Validate(); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if needsReview {
		// Drafts, and a change to a published document its next version: an upload
		// unpublishes nothing while it waits for review.
		if srcs, err = review.Stage(r.Context(), h.store, collection, srcs); err != nil {
			h.fail(w, r, err)
			return
		}
	}

	j := &job{ID: newJobID(), File: name, Collection: collection, changed: make(chan struct{}), state: jobState{Total: len(srcs)}}
	h.jobs.add(j)
	// The ingestion outlives the upload request; it is bounded by IngestTimeout.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.cfg.IngestTimeout)
	go func() {
		defer cancel()
		st, err := h.kb.Ingest(ctx, collection, srcs, func(done, total int) {
			j.update(func(s *jobState) { s.Done, s.Total = done, total })
		})
		if err == nil {
			err = h.audit(ctx, ActionIngest, collection, map[string]string{
				"file": name, "status": string(status), "documents": strconv.Itoa(st.Documents), "added": strconv.Itoa(st.Added),
				"updated": strconv.Itoa(st.Updated), "unchanged": strconv.Itoa(st.Unchanged), "chunks": strconv.Itoa(st.Chunks),
			})
		}
		if err != nil && tandem.ErrorCode(err) == tandem.EINTERNAL {
			h.cfg.Logger.ErrorContext(ctx, "ingest upload", "file", name, "collection", collection, "error", err)
		}
		j.update(func(s *jobState) {
			s.Finished = true
			if err != nil {
				s.Error = tandem.ErrorMessage(err)
				return
			}
			s.Done, s.Stats = s.Total, &st
		})
	}()
	http.Redirect(w, r, "/kb/ingest/"+j.ID, http.StatusSeeOther)
}

func uploadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err // fail turns it into 413
	}
	return tandem.Errorf(tandem.EINVALID, "cannot read the upload: %v", err)
}

func newJobID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

type jobData struct {
	Job   *job
	State jobState
}

func (h *handler) handleIngestJob(w http.ResponseWriter, r *http.Request) {
	j, err := h.jobs.find(r.PathValue("job"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	st, _ := j.snapshot()
	h.render(w, r, http.StatusOK, "job", page{Title: "Ingesting " + j.File, Nav: "ingest", Data: jobData{Job: j, State: st}})
}

// sseHeartbeat keeps idle event streams open through proxies.
const sseHeartbeat = 15 * time.Second

// handleIngestEvents streams a job's progress as server-sent events: "progress" events
// while it runs, then one "done" event, after which the stream ends.
func (h *handler) handleIngestEvents(w http.ResponseWriter, r *http.Request) {
	j, err := h.jobs.find(r.PathValue("job"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	tick := time.NewTicker(sseHeartbeat)
	defer tick.Stop()
	for {
		st, changed := j.snapshot()
		event := "progress"
		if st.Finished {
			event = "done"
		}
		b, _ := json.Marshal(st) // plain struct: cannot fail
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		if st.Finished {
			return
		}
		for waiting := true; waiting; {
			select {
			case <-r.Context().Done():
				return
			case <-changed:
				waiting = false
			case <-tick.C:
				if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
					return
				}
				if err := rc.Flush(); err != nil {
					return
				}
			}
		}
	}
}
