package tandem

import "time"

// DocumentStatus is a knowledge document's review state.
type DocumentStatus string

// Document states: only published documents answer customers. A draft is submitted for
// review (in review) and approved (published) or sent back with a comment (draft).
const (
	DocumentDraft     DocumentStatus = "draft"
	DocumentInReview  DocumentStatus = "in_review"
	DocumentPublished DocumentStatus = "published"
)

// DocumentReview is the latest review round of a document: who submitted it and when, who
// reviewed it and the comment of a request for changes (kept until the next review).
type DocumentReview struct {
	DocumentID  string
	SubmittedBy string
	SubmittedAt time.Time
	ReviewedBy  string // "" until reviewed
	ReviewedAt  time.Time
	Comment     string
}

// Document is one knowledge article, FAQ pair or ingested file.
type Document struct {
	ID          string
	Collection  string
	Title       string
	Source      string // file path or origin
	URL         string
	Tags        []string
	Language    string
	Version     int
	ContentHash string
	Status      DocumentStatus
	Body        string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Chunk is a retrievable passage of a document with its embedding.
type Chunk struct {
	ID         string
	DocumentID string
	Collection string
	Ordinal    int
	Heading    string
	Text       string
	Embedding  []float32
}

// Collection groups documents that share an embedder; the embedder and dimension are recorded
// so a change is detected and the collection re-embedded.
type Collection struct {
	Name      string
	BotID     string
	Embedder  string
	Dimension int
	CreatedAt time.Time
}

// ScoredChunk is a search hit.
type ScoredChunk struct {
	Chunk
	DocumentTitle string
	DocumentURL   string
	Score         float64
}
