//go:build !amd64

package sqlite

// axpy4 adds a0·x0 + a1·x1 + a2·x2 + a3·x3 to dst.
func axpy4(dst []float32, a0, a1, a2, a3 float32, x0, x1, x2, x3 []float32) {
	axpy4Go(dst, a0, a1, a2, a3, x0, x1, x2, x3)
}
