; lifecycle.asm: benchmark workload: nothing; the guest goes straight to the done exit (VM create -> first exit -> destroy).
; @name lifecycle
; @metric us_per_lifecycle
; @insns_per_iter 0
