package deltaclient

import "golang.org/x/sys/cpu"

//go:noescape
func specialBitsAVX2(b []byte, out []uint64)

func init() {
	if cpu.X86.HasAVX2 {
		specialBits = specialBitsAVX2
	}
}
