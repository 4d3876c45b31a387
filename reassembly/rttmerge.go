package reassembly

// Merge adds the samples of o to r, for rollups over many connections. r's
// histogram turns dense (about 1 KiB): rollups are few, connections many.
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
	if r.hist == nil {
		r.hist = new(rttHist)
		if r.sparse != nil {
			for _, x := range r.sparse.bins[:r.sparse.n] {
				r.hist[x.bucket] += x.count
			}
			r.sparse = nil
		}
	}
	if o.hist != nil {
		for i, c := range o.hist {
			r.hist[i] += c
		}
	}
	if o.sparse != nil {
		for _, x := range o.sparse.bins[:o.sparse.n] {
			r.hist[x.bucket] += x.count
		}
	}
}
