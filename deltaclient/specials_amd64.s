#include "textflag.h"

// func specialBitsAVX2(b []byte, out []uint64)
// Sets bit i%64 of out[i/64] for each byte b[i] that is '"', '\\' or
// below 0x20, 64 bytes a step; len(b) is a multiple of 64.
TEXT ·specialBitsAVX2(SB), NOSPLIT, $0-48
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ out_base+24(FP), DI
	SHRQ $6, CX
	JZ   done
	MOVQ $0x2222222222222222, AX
	MOVQ AX, X0
	VPBROADCASTQ X0, Y0
	MOVQ $0x5c5c5c5c5c5c5c5c, AX
	MOVQ AX, X1
	VPBROADCASTQ X1, Y1
	MOVQ $0x1f1f1f1f1f1f1f1f, AX
	MOVQ AX, X2
	VPBROADCASTQ X2, Y2

loop:
	VMOVDQU (SI), Y3
	VMOVDQU 32(SI), Y4
	VPCMPEQB Y0, Y3, Y5
	VPCMPEQB Y1, Y3, Y6
	VPOR     Y5, Y6, Y5
	VPMINUB  Y2, Y3, Y6 // min(x, 0x1f) == x: x < 0x20
	VPCMPEQB Y3, Y6, Y6
	VPOR     Y5, Y6, Y5
	VPCMPEQB Y0, Y4, Y7
	VPCMPEQB Y1, Y4, Y8
	VPOR     Y7, Y8, Y7
	VPMINUB  Y2, Y4, Y8
	VPCMPEQB Y4, Y8, Y8
	VPOR     Y7, Y8, Y7
	VPMOVMSKB Y5, AX
	VPMOVMSKB Y7, BX
	SHLQ $32, BX
	ORQ  BX, AX
	MOVQ AX, (DI)
	ADDQ $64, SI
	ADDQ $8, DI
	DECQ CX
	JNZ  loop
	VZEROUPPER

done:
	RET
