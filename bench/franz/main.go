// A minimal franz-go client: the "how fast can any client read (or write) this broker here" line
// of the benchmark (bench/run.mjs builds it with `go build` into bench/.state/franz/).
//
//	franz consume -b HOST:PORT -t TOPIC          reads every partition from the start to the high
//	                                             watermark taken at start, by assignment (no group),
//	                                             discards the records, prints the count
//	franz produce -b HOST:PORT -t TOPIC -n N     writes N records of -size bytes, idempotent, acks=all
//	franz copy -b HOST:PORT -t SRC -to DST       reads SRC to its end and writes every record (key,
//	                                             value, headers, timestamp) to DST, same partition
//	-per N (consume, copy): only the first N offsets of each partition (the bench's sets start at 0)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func die(err error) {
	fmt.Fprintln(os.Stderr, "franz:", err)
	os.Exit(1)
}

// ends returns the high watermark of every partition of topic.
func ends(ctx context.Context, cl *kgo.Client, topic string) map[int32]int64 {
	adm := kadm.NewClient(cl)
	offs, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		die(err)
	}
	out := map[int32]int64{}
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			die(o.Err)
		}
		out[o.Partition] = o.Offset
	})
	return out
}

// consume reads topic from the start to the ends taken now; fn gets every record.
func consume(ctx context.Context, brokers []string, topic string, per int64, fn func(*kgo.Record)) int64 {
	meta, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		die(err)
	}
	high := ends(ctx, meta, topic)
	meta.Close()
	if per > 0 {
		for p, h := range high {
			high[p] = min(h, per)
		}
	}
	starts := map[int32]kgo.Offset{}
	remaining := 0
	for p, h := range high {
		if h > 0 {
			starts[p] = kgo.NewOffset().AtStart()
			remaining++
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: starts}), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		die(err)
	}
	defer cl.Close()
	var n int64
	done := map[int32]bool{}
	for remaining > 0 {
		fs := cl.PollFetches(ctx)
		fs.EachError(func(t string, p int32, err error) { die(fmt.Errorf("%s/%d: %w", t, p, err)) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset >= high[r.Partition] {
				return
			}
			n++
			fn(r)
			if r.Offset == high[r.Partition]-1 && !done[r.Partition] {
				done[r.Partition] = true
				remaining--
			}
		})
		// a partition whose last offsets are transaction markers: the fetch position passes the end
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if !done[p.Partition] && p.HighWatermark >= high[p.Partition] && len(p.Records) > 0 && p.Records[len(p.Records)-1].Offset >= high[p.Partition]-1 {
				done[p.Partition] = true
				remaining--
			}
		})
	}
	return n
}

func main() {
	if len(os.Args) < 2 {
		die(fmt.Errorf("usage: franz consume|produce|copy -b brokers -t topic ..."))
	}
	mode := os.Args[1]
	fl := flag.NewFlagSet(mode, flag.ExitOnError)
	brokers := fl.String("b", "127.0.0.1:9092", "brokers")
	topic := fl.String("t", "", "topic")
	to := fl.String("to", "", "copy: target topic")
	count := fl.Int("n", 0, "produce: records")
	size := fl.Int("size", 323, "produce: value bytes")
	per := fl.Int64("per", 0, "consume, copy: first N offsets of each partition only")
	fl.Parse(os.Args[2:])
	ctx := context.Background()
	seeds := strings.Split(*brokers, ",")
	switch mode {
	case "consume":
		n := consume(ctx, seeds, *topic, *per, func(*kgo.Record) {})
		fmt.Println(n)
	case "produce", "copy":
		cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0), kgo.MaxBufferedRecords(100_000))
		if err != nil {
			die(err)
		}
		defer cl.Close()
		var failed atomic.Value
		var wg sync.WaitGroup
		var n int64
		send := func(r *kgo.Record) {
			wg.Add(1)
			n++
			cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
				if err != nil {
					failed.Store(err)
				}
				wg.Done()
			})
		}
		if mode == "produce" {
			value := []byte(strings.Repeat("x", *size))
			for i := 0; i < *count; i++ {
				send(&kgo.Record{Topic: *topic, Partition: int32(i % 6), Key: []byte(fmt.Sprintf("k%d", i%1000)), Value: value})
			}
		} else {
			consume(ctx, seeds, *topic, *per, func(r *kgo.Record) {
				send(&kgo.Record{Topic: *to, Partition: r.Partition, Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: r.Timestamp})
			})
		}
		wg.Wait()
		if err, ok := failed.Load().(error); ok {
			die(err)
		}
		fmt.Println(n)
	default:
		die(fmt.Errorf("unknown mode %q", mode))
	}
}
