// Context switch for x86-64 System V. The contract is in context.h: this file is the only
// assembly in goro. A suspended context is a stack pointer; the callee-saved registers
// (rbp, rbx, r12-r15), MXCSR and the x87 control word sit on that stack, below the return
// address, in the order that arch::saved_frame (context.h) describes.

#if defined(__x86_64__)
        .text

// void goro_arch_switch(void** save_sp, void* load_sp)
//   Saves the running context on its own stack, stores its stack pointer in *save_sp, and
//   resumes the context whose stack pointer is load_sp. Returns when some later switch
//   resumes the saved context.
        .globl  goro_arch_switch
        .hidden goro_arch_switch
        .type   goro_arch_switch, @function
        .p2align 4
goro_arch_switch:
        .cfi_startproc
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        pushq   %rbx
        .cfi_adjust_cfa_offset 8
        pushq   %r12
        .cfi_adjust_cfa_offset 8
        pushq   %r13
        .cfi_adjust_cfa_offset 8
        pushq   %r14
        .cfi_adjust_cfa_offset 8
        pushq   %r15
        .cfi_adjust_cfa_offset 8
        subq    $8, %rsp
        .cfi_adjust_cfa_offset 8
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .cfi_endproc
        .size   goro_arch_switch, .-goro_arch_switch

// The first frame of every goroutine: arch::prepare() leaves the entry function in r13 and
// its argument in r12, so the first switch to a new context "returns" here. The entry
// function never returns. The CFI marks this as the outermost frame so that unwinders
// (exceptions, the goroutine dump) stop here.
        .globl  goro_arch_trampoline
        .hidden goro_arch_trampoline
        .type   goro_arch_trampoline, @function
        .p2align 4
goro_arch_trampoline:
        .cfi_startproc
        .cfi_undefined rip
        movq    %r12, %rdi
        callq   *%r13
        ud2
        .cfi_endproc
        .size   goro_arch_trampoline, .-goro_arch_trampoline

        .section .note.GNU-stack,"",@progbits
#else
#error "goro: only x86-64 has a context switch so far (see src/arch/context.h)"
#endif
