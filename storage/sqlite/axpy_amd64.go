package sqlite

import "golang.org/x/sys/cpu"

// useAVX2 selects the AVX2/FMA kernel, which scores eight chunks per instruction.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// axpy4AVX2 adds a[0]·x0 + a[1]·x1 + a[2]·x2 + a[3]·x3 to dst; each x must hold at least
// len(dst) floats.
//
//go:noescape
func axpy4AVX2(dst []float32, a *[4]float32, x0, x1, x2, x3 *float32)

// axpy4 adds a0·x0 + a1·x1 + a2·x2 + a3·x3 to dst.
func axpy4(dst []float32, a0, a1, a2, a3 float32, x0, x1, x2, x3 []float32) {
	n := len(dst)
	if n == 0 {
		return
	}
	x0, x1, x2, x3 = x0[:n], x1[:n], x2[:n], x3[:n]
	if useAVX2 {
		a := [4]float32{a0, a1, a2, a3}
		axpy4AVX2(dst, &a, &x0[0], &x1[0], &x2[0], &x3[0])
		return
	}
	axpy4Go(dst, a0, a1, a2, a3, x0, x1, x2, x3)
}
