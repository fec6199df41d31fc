package embed

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Stats are the document frequencies of hashed features in a collection, from which the
// embedder derives inverse document frequencies. Features are kept in a 2^22 space so
// unrelated features rarely share a weight even though vectors have few dimensions.
// Stats are not safe for concurrent mutation; embedders only read them.
type Stats struct {
	Docs int
	DF   map[uint32]uint32
}

const statsBits = 22

func statsKey(f uint64) uint32 { return uint32(f >> (64 - statsBits)) }

// NewStats returns empty statistics.
func NewStats() *Stats { return &Stats{DF: make(map[uint32]uint32)} }

// Add counts the features of texts, each text as one document. Large inputs are split
// over the CPUs: feature extraction is most of an ingest's Go work before its first write.
func (s *Stats) Add(h *Hashing, texts ...string) {
	workers := min(runtime.GOMAXPROCS(0), len(texts)/addPerWorker)
	if workers <= 1 {
		s.add(h, texts)
		return
	}
	parts := make([]*Stats, workers)
	var wg sync.WaitGroup
	for i := range parts {
		parts[i] = NewStats()
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i].add(h, texts[i*len(texts)/workers:(i+1)*len(texts)/workers])
		}()
	}
	wg.Wait()
	for _, p := range parts {
		s.Docs += p.Docs
		for k, n := range p.DF {
			s.DF[k] += n
		}
	}
}

// addPerWorker is the least number of texts worth a goroutine of Add.
const addPerWorker = 256

func (s *Stats) add(h *Hashing, texts []string) {
	seen := make(map[uint32]struct{}, 512)
	for _, t := range texts {
		clear(seen)
		h.Features(t, func(f uint64) { seen[statsKey(f)] = struct{}{} })
		for k := range seen {
			s.DF[k]++
		}
		s.Docs++
	}
}

// IDF returns the smoothed inverse document frequency of feature f, ln((1+N)/(1+df))+1 as in
// scikit-learn. Nil or empty statistics weigh every feature 1.
func (s *Stats) IDF(f uint64) float64 {
	if s == nil || s.Docs == 0 {
		return 1
	}
	return s.idfOf(s.DF[statsKey(f)])
}

func (s *Stats) idfOf(df uint32) float64 {
	return math.Log(float64(1+s.Docs)/float64(1+df)) + 1
}

// MarshalBinary encodes the statistics compactly (sorted keys as gzip'd varint deltas).
func (s *Stats) MarshalBinary() ([]byte, error) {
	keys := make([]uint32, 0, len(s.DF))
	for k := range s.DF {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var raw bytes.Buffer
	var tmp [binary.MaxVarintLen64]byte
	put := func(v uint64) { raw.Write(tmp[:binary.PutUvarint(tmp[:], v)]) }
	put(1) // format version
	put(uint64(s.Docs))
	put(uint64(len(keys)))
	var last uint32
	for _, k := range keys {
		put(uint64(k - last))
		put(uint64(s.DF[k]))
		last = k
	}
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, fmt.Errorf("encode stats: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("encode stats: %w", err)
	}
	return out.Bytes(), nil
}

// UnmarshalBinary decodes statistics written by MarshalBinary.
func (s *Stats) UnmarshalBinary(data []byte) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("decode stats: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("decode stats: %w", err)
	}
	r := bytes.NewReader(raw)
	get := func() uint64 {
		v, e := binary.ReadUvarint(r)
		if e != nil && err == nil {
			err = e
		}
		return v
	}
	if v := get(); v != 1 {
		return errors.New("decode stats: unknown format")
	}
	docs := get()
	n := get()
	if err != nil || n > 1<<statsBits {
		return fmt.Errorf("decode stats: corrupt header")
	}
	s.Docs = int(docs)
	s.DF = make(map[uint32]uint32, n)
	var k uint32
	for range n {
		k += uint32(get())
		s.DF[k] = uint32(get())
	}
	if err != nil {
		return fmt.Errorf("decode stats: %w", err)
	}
	return nil
}
