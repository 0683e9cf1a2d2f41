package transforms

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
)

// progressEvery is how often a worker logs how far a stage has got there.
const progressEvery = 5 * time.Second

// progress counts a stage's work on one worker (a DoFn instance's) and
// logs, at most every progressEvery, how far it has got there, e.g.
// "StoreChunks: 39 of 67 chunks written here (205954943 bytes) in 5s, 7.2
// a second". Workers share nothing, so each tells its own part; the
// counters add up across workers.
type progress struct {
	stage, what   string // "StoreChunks", "chunks written"
	start, logged time.Time
	done, bytes   int64
}

// add counts n more items of bytes bytes (of total, when known: > 0) and
// logs when a line is due.
func (p *progress) add(ctx context.Context, n, bytes, total int64) {
	now := time.Now()
	if p.start.IsZero() {
		p.start, p.logged = now, now
	}
	p.done += n
	p.bytes += bytes
	if now.Sub(p.logged) < progressEvery {
		return
	}
	p.logged = now
	elapsed := now.Sub(p.start)
	of := ""
	if total > 0 {
		of = fmt.Sprintf(" of %d", total)
	}
	log.Infof(ctx, "%s: %d%s %s here (%d bytes) in %s, %.1f a second",
		p.stage, p.done, of, p.what, p.bytes, elapsed.Round(time.Second), float64(p.done)/elapsed.Seconds())
}

// timeSince adds the milliseconds since start to counter c, and start and
// now to the stage's span.
func timeSince(ctx context.Context, c beam.Counter, span beam.Distribution, start time.Time) {
	now := time.Now()
	c.Inc(ctx, now.Sub(start).Milliseconds())
	span.Update(ctx, start.UnixMilli())
	span.Update(ctx, now.UnixMilli())
}
