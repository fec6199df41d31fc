package retrieval

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/tmc/langchaingo/llms"
	"golang.org/x/sync/singleflight"
)

// Defaults of the answer cache (see WithAnswerCache).
const (
	DefaultAnswerCacheSize = 4096
	DefaultAnswerCacheTTL  = 2 * time.Second
)

// answerCache remembers recent customer answers by question. Customers of one bot ask the
// same few questions over and over (the top questions of a help centre are most of its
// traffic), and an answer costs a full-text search, a vector search and an extraction (or an
// LLM call). Changes made through this knowledge base empty the cache at once; changes made
// by another process (a replica, `tandem kb` against the same database) show after at most
// the TTL. Concurrent misses of one question share one computation: when a popular answer
// expires, the customers asking it at that moment wait for one search instead of each
// running their own.
type answerCache struct {
	lru    *lru.Cache[string, cachedAnswer]
	ttl    time.Duration
	now    func() time.Time
	flight singleflight.Group

	mu  sync.Mutex
	gen uint64 // bumped by purge, so an answer computed before a change is not kept after it

	hits, misses atomic.Uint64
}

// CacheStats counts answer cache look-ups since the knowledge base was made.
type CacheStats struct {
	Hits   uint64 `json:"hits"`
	Misses uint64 `json:"misses"`
}

// AnswerCacheStats reports how often customer answers came from the cache (zero when the
// cache is off).
func (kb *KnowledgeBase) AnswerCacheStats() CacheStats {
	if kb.answers == nil {
		return CacheStats{}
	}
	return CacheStats{Hits: kb.answers.hits.Load(), Misses: kb.answers.misses.Load()}
}

type cachedAnswer struct {
	answer  Answer
	expires time.Time
	// model is the LLM that wrote the answer, whose address is in the key: holding it keeps
	// that address from being reused by another model while the entry lives.
	model llms.Model
}

// newAnswerCache returns nil (no caching) when size is not positive. Entries expire when
// read after ttl; no background goroutine sweeps them, the LRU bound keeps memory fixed.
func newAnswerCache(size int, ttl time.Duration, now func() time.Time) *answerCache {
	if size <= 0 || ttl <= 0 {
		return nil
	}
	c, err := lru.New[string, cachedAnswer](size)
	if err != nil {
		return nil
	}
	return &answerCache{lru: c, ttl: ttl, now: now}
}

// cacheKey identifies a question and its options; case and spacing do not change answers.
// With an LLM the key also names the model (by address) and the persona, so bots with
// different models or voices never share answers; ok is false for a model that has no
// address (not a pointer), whose answers are not cached. Offline keys are unchanged.
func cacheKey(question string, opts AnswerOptions, model llms.Model) (key string, ok bool) {
	var b strings.Builder
	if model != nil {
		v := reflect.ValueOf(model)
		if v.Kind() != reflect.Pointer {
			return "", false
		}
		// \x01 cannot start an offline key (a language code or \x00).
		b.WriteByte(1)
		b.WriteString(strconv.FormatUint(uint64(v.Pointer()), 16))
		b.WriteByte(0)
		// Length-prefixed: whatever bytes the persona holds, it cannot pass for the fields after it.
		b.WriteString(strconv.Itoa(len(opts.Persona)))
		b.WriteByte(':')
		b.WriteString(opts.Persona)
	}
	b.WriteString(opts.Language)
	b.WriteByte(0)
	b.WriteString(strings.Join(opts.Collections, "\x1f"))
	b.WriteByte(0)
	b.WriteString(strings.Join(opts.Tags, "\x1f"))
	b.WriteByte(0)
	for i, w := range strings.Fields(question) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strings.ToLower(w))
	}
	return b.String(), true
}

func (c *answerCache) get(key string) (*Answer, bool) {
	if c == nil {
		return nil, false
	}
	e, ok := c.lru.Get(key)
	if !ok || !c.now().Before(e.expires) {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	return &e.answer, true
}

// generation is read before computing an answer and passed to add.
func (c *answerCache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *answerCache) add(key string, a *Answer, model llms.Model, gen uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		c.lru.Add(key, cachedAnswer{answer: *a, expires: c.now().Add(c.ttl), model: model})
	}
}

// compute returns fn's answer for key and caches it; concurrent calls for the same key and
// generation run fn once. fn runs without the caller's cancellation, since other callers
// may be waiting for it; a caller whose ctx ends stops waiting.
func (c *answerCache) compute(ctx context.Context, key string, model llms.Model, fn func(context.Context) (*Answer, error)) (*Answer, error) {
	if c == nil {
		return fn(ctx)
	}
	gen := c.generation()
	// Keyed by generation too: a caller arriving after a change never gets an answer
	// computed before it.
	ch := c.flight.DoChan(strconv.FormatUint(gen, 10)+"\x00"+key, func() (any, error) {
		a, err := fn(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		c.add(key, a, model, gen)
		return a, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		a := *r.Val.(*Answer) // each caller gets its own copy, as from get
		return &a, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// purge forgets every answer; called after any change to the knowledge.
func (c *answerCache) purge() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.lru.Purge()
}
