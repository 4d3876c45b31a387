package reassembly

// Merge adds the samples of o to r, for rollups over many connections. r
// stays sparse while the buckets of both fit (as add keeps them): up to
// 65536 services each hold a rollup, and most see RTTs in a few buckets.
func (r *RTT) Merge(o *RTT) {
	if o.Samples == 0 {
		return
	}
	if r.Samples == 0 || o.Min < r.Min {
		r.Min = o.Min
	}
	r.Max = max(r.Max, o.Max)
	r.Samples += o.Samples
	r.sum += o.sum
	r.sumSq += o.sumSq
	if o.hist != nil {
		if r.hist == nil {
			r.densify()
		}
		for i, c := range o.hist {
			r.hist[i] += c
		}
	}
	if sp := o.sparse; sp != nil {
		for _, x := range sp.bins[:sp.n] {
			r.addBin(int(x.bucket), x.count)
		}
	}
	if o.run > 0 {
		r.addBin(int(o.runBucket), o.run)
	}
}
