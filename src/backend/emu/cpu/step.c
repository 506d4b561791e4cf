/* step.c: the one-instruction mode: a temporary CPU built from a given state runs one data instruction with the normal decoder and handlers, every guest-physical access going to callbacks (the MMIO emulator's engine). */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "backend/emu/emu.h"
#include "backend/emu/emu_step.h"
#include "backend/emu/cpu/handlers.h"
#include "backend/emu/cpu/sse_ops.h"

/* The temporary CPU: no vCPU, no VM, no block cache; c->phys routes memory. */
struct step_cpu {
	struct emu_cpu c;
	struct hvx_vcpu_state s;
	struct emu_phys phys;
	struct emu_insn in;
	uint8_t buf[16];
	uint64_t rcx0;
	const uint8_t *fp_in; /* the caller's fpstate (NULL: none) */
	bool busy;            /* a step runs on it */
	bool temporary;       /* not the thread's cached CPU: freed after the step */
};

#define FP_LEGACY 512 /* the XSAVE legacy region: x87, MXCSR, XMM0-15 */

/*
 * Handlers the mode runs: instructions whose only effects are on general registers, arithmetic flags and memory
 * (what a device access can be part of), plus the SSE moves (sse_move). Everything else (control transfers,
 * segment, system, I/O, x87, SSE arithmetic, VMX) is refused, so no handler here can reach the VMX hooks or state the
 * temporary CPU does not have.
 */
static const emu_handler data_handlers[] = {
	h_alu,   h_test, h_incdec, h_neg,  h_not,   h_mov,   h_movzx, h_movsx, h_movbe,   h_xchg, h_xadd,
	h_cmpxchg, h_cmpxchg_wide, h_bt, h_shift, h_shxd, h_mul, h_imul_n, h_div, h_bsf, h_tzcnt, h_popcnt,
	h_bmi,   h_adx,  h_crc32,  h_cmov, h_setcc, h_push,  h_pop,   h_movs,  h_stos,    h_lods, h_cmps,
	h_scas,
};
static const emu_handler string_handlers[] = {h_movs, h_stos, h_lods, h_cmps, h_scas};

static bool in_list(emu_handler fn, const emu_handler *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == fn)
			return true;
	return false;
}

/* SSE moves between an XMM register and memory (MOVAPS/MOVDQA/MOVNTDQ..., MOVUPS/MOVDQU/LDDQU, MOVD/MOVQ, MOVSS/MOVSD,
 * MOVLPS/MOVHPS...): the device side of a vectorised copy. */
static bool sse_move(const struct emu_insn *in)
{
	if (in->fn != h_sse || in->memop == 0xff)
		return false;
	switch (in->aux) {
	case SO_MOVA: case SO_MOVU: case SO_MOVD: case SO_MOVS32: case SO_MOVS64: case SO_MOVLP: case SO_MOVHP:
		return true;
	default:
		return false;
	}
}

static bool runnable(const struct emu_insn *in)
{
	bool sse = sse_move(in);
	if (!sse && !in_list(in->fn, data_handlers, sizeof data_handlers / sizeof data_handlers[0]))
		return false;
	for (unsigned i = 0; i < in->nops; i++)
		if (in->op[i].kind != OK_REG && in->op[i].kind != OK_MEM && in->op[i].kind != OK_IMM &&
		    !(sse && in->op[i].kind == OK_XMM))
			return false;
	/* A memory operand, a string instruction, or an implicit stack access (PUSH/POP of a register). */
	return in->memop != 0xff || in->fn == h_push || in->fn == h_pop ||
	       in_list(in->fn, string_handlers, sizeof string_handlers / sizeof string_handlers[0]);
}

/* ---- guest-physical accesses of the temporary CPU (called from mmu.c on its slow paths) ---- */

static _Noreturn void phys_fail(struct emu_cpu *c, int err)
{
	c->phys->err = err;
	EMU_LONGJMP(c, JMP_EXIT);
}

static unsigned piece(unsigned n)
{
	return n >= 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1;
}

static void dev_note(struct emu_phys *p, uint64_t gpa, unsigned size, bool write, uint64_t value)
{
	p->dev_accesses++;
	p->dev_gpa = gpa;
	p->dev_size = size;
	p->dev_write = write;
	p->dev_value = value;
}

void emu_phys_read(struct emu_cpu *c, uint64_t gpa, void *dst, unsigned n)
{
	struct emu_phys *p = c->phys;
	const struct emu_step_mem *m = p->mem;
	if (m->ram_read(m->ctx, gpa, dst, n) == 0)
		return;
	if (p->fetch)
		phys_fail(c, EMU_STEP_NOT_RAM); /* no instructions from a device */
	uint8_t *d = dst;
	while (n) {
		unsigned k = piece(n);
		uint64_t v = 0;
		if (m->dev_read(m->ctx, gpa, k, &v))
			phys_fail(c, EMU_STEP_DEVICE_ERROR);
		v &= sz_mask(k);
		memcpy(d, &v, k);
		dev_note(p, gpa, k, false, v);
		d += k;
		gpa += k;
		n -= k;
	}
}

void emu_phys_write(struct emu_cpu *c, uint64_t gpa, const void *src, unsigned n)
{
	struct emu_phys *p = c->phys;
	const struct emu_step_mem *m = p->mem;
	if (m->ram_write(m->ctx, gpa, src, n) == 0)
		return;
	const uint8_t *s = src;
	while (n) {
		unsigned k = piece(n);
		uint64_t v = 0;
		memcpy(&v, s, k);
		if (m->dev_write(m->ctx, gpa, k, v))
			phys_fail(c, EMU_STEP_DEVICE_ERROR);
		dev_note(p, gpa, k, true, v);
		s += k;
		gpa += k;
		n -= k;
	}
}

uint64_t emu_phys_pte_read(struct emu_cpu *c, uint64_t gpa, unsigned size)
{
	const struct emu_step_mem *m = c->phys->mem;
	uint64_t v = 0;
	if (m->ram_read(m->ctx, gpa, &v, size))
		phys_fail(c, EMU_STEP_NOT_RAM);
	return v;
}

/* Accessed/dirty bits: a read-modify-write of the entry through the callbacks (not atomic with other vCPUs). */
void emu_phys_pte_set(struct emu_cpu *c, uint64_t gpa, unsigned size, uint64_t bits)
{
	if (c->phys->no_ad)
		return;
	const struct emu_step_mem *m = c->phys->mem;
	uint64_t v = emu_phys_pte_read(c, gpa, size) | bits;
	if (m->ram_write(m->ctx, gpa, &v, size))
		phys_fail(c, EMU_STEP_NOT_RAM);
}

/* ---- the temporary CPU ---- */

/* One temporary CPU per thread, kept between steps (it is large: the TLB and jump cache alone are 36 KiB). */
static pthread_key_t step_key;
static pthread_once_t step_once = PTHREAD_ONCE_INIT;
static bool step_key_ok;

static void step_key_init(void)
{
	step_key_ok = pthread_key_create(&step_key, free) == 0;
}

/*
 * Zero everything of the cached CPU except its TLB and jump cache: the one-instruction mode never fills them
 * (translate() returns before the TLB fill when c->phys is set; no block is decoded), so they are still zero.
 */
static void step_clear(struct step_cpu *sc)
{
	struct emu_cpu *c = &sc->c;
	uint8_t mode = c->mode, cpl = c->cpl, paging = c->paging; /* kept: the TLB is flushed only if they change */
	char *base = (char *)c;
	size_t tlb = offsetof(struct emu_cpu, tlb), tlb_end = tlb + sizeof c->tlb;
	size_t jc = offsetof(struct emu_cpu, jc), jc_end = jc + sizeof c->jc;
	_Static_assert(offsetof(struct emu_cpu, tlb) < offsetof(struct emu_cpu, jc), "layout");
	memset(base, 0, tlb);
	memset(base + tlb_end, 0, jc - tlb_end);
	memset(base + jc_end, 0, sizeof *c - jc_end);
	memset(&sc->s, 0, offsetof(struct hvx_vcpu_state, fpstate));
	memset(&sc->phys, 0, sizeof sc->phys);
	memset(&sc->in, 0, sizeof sc->in);
	sc->rcx0 = 0;
	sc->fp_in = NULL;
	c->mode = mode;
	c->cpl = cpl;
	c->paging = paging;
}

/* The thread's CPU, or a fresh one when it is in use (a device callback that emulates again) or cannot be kept. */
static struct step_cpu *step_get(void)
{
	pthread_once(&step_once, step_key_init);
	struct step_cpu *sc = step_key_ok ? pthread_getspecific(step_key) : NULL;
	if (sc && !sc->busy) {
		step_clear(sc);
		sc->busy = true;
		return sc;
	}
	size_t al = _Alignof(struct step_cpu), size = (sizeof(struct step_cpu) + al - 1) / al * al;
	struct step_cpu *fresh = aligned_alloc(al, size);
	if (!fresh)
		return NULL;
	memset(fresh, 0, sizeof *fresh);
	fresh->busy = true;
	fresh->temporary = sc != NULL || !step_key_ok || pthread_setspecific(step_key, fresh) != 0;
	return fresh;
}

static void step_put(struct step_cpu *sc)
{
	if (sc->temporary)
		free(sc);
	else
		sc->busy = false;
}

static struct step_cpu *step_new(const struct emu_step_state *st, const struct emu_step_mem *mem)
{
	struct step_cpu *sc = step_get();
	if (!sc)
		return NULL;
	struct emu_cpu *c = &sc->c;
	c->s = &sc->s;
	c->v = sc->s.vmcs;
	c->phys = &sc->phys;
	sc->phys.mem = mem;
	sc->fp_in = st->fpstate;
	memcpy(c->s->gpr, st->gpr, sizeof st->gpr);
	c->s->rip = st->rip;
	c->s->rflags = st->rflags | 2;
	c->v[HVX_SLOT_GUEST_CR0] = st->cr0;
	c->v[HVX_SLOT_GUEST_CR3] = st->cr3;
	c->v[HVX_SLOT_GUEST_CR4] = st->cr4;
	c->v[HVX_SLOT_GUEST_IA32_EFER] = st->efer;
	for (unsigned i = 0; i < 6; i++) {
		c->v[HVX_SLOT_GUEST_ES + i] = st->seg[i].sel;
		c->v[HVX_SLOT_GUEST_ES_BASE + i] = st->seg[i].base;
		c->v[HVX_SLOT_GUEST_ES_LIMIT + i] = st->seg[i].limit;
		c->v[HVX_SLOT_GUEST_ES_AR + i] = st->seg[i].ar;
	}
	c->lf_op = LF_NONE;
	emu_mode_update(c);
	for (unsigned i = 0; i < 6; i++)
		emu_seg_update(c, i); /* emu_mode_update refreshes them only when the mode changed */
	return sc;
}

/* PAE paging without long mode: the PDPTE registers, loaded here from CR3 (what MOV to CR3 loaded, unless the guest
 * has changed the table since). */
static enum emu_step_result load_pdptes(struct step_cpu *sc)
{
	struct emu_cpu *c = &sc->c;
	if (c->paging != 3)
		return EMU_STEP_DONE;
	const struct emu_step_mem *m = sc->phys.mem;
	uint64_t e[4];
	if (m->ram_read(m->ctx, c->v[HVX_SLOT_GUEST_CR3] & 0xffffffe0ull, e, sizeof e))
		return EMU_STEP_NOT_RAM;
	for (unsigned i = 0; i < 4; i++)
		c->v[HVX_SLOT_GUEST_PDPTE0 + i] = e[i];
	return EMU_STEP_DONE;
}

static enum emu_step_result ended(struct step_cpu *sc, int code, struct emu_step_info *info)
{
	if (code == JMP_FAULT) {
		info->vector = sc->c.exc.vec;
		info->has_error_code = sc->c.exc.has_err;
		info->error_code = sc->c.exc.err;
		info->cr2 = sc->c.exc.cr2;
		return EMU_STEP_FAULT;
	}
	return (enum emu_step_result)sc->phys.err;
}

/* Fetch (through paging, RAM only) and decode the instruction at CS:RIP, or decode the given bytes. */
static enum emu_step_result fetch_decode(struct step_cpu *sc, const uint8_t *bytes, unsigned n)
{
	struct emu_cpu *c = &sc->c;
	if (bytes) {
		memcpy(sc->buf, bytes, n);
		return emu_decode_single(c->dec_key, sc->buf, n, &sc->in) < 0 ? EMU_STEP_UNSUPPORTED : EMU_STEP_DONE;
	}
	uint64_t rip = c->s->rip, la;
	unsigned want = 15;
	if (c->mode == EM_LONG64) {
		la = rip;
	} else {
		const struct emu_seg_cache *cs = &c->sc[SEG_CS];
		if (rip > cs->hi)
			emu_gp0(c);
		if ((uint64_t)cs->hi - rip + 1 < want)
			want = (unsigned)((uint64_t)cs->hi - rip + 1);
		la = (cs->base + rip) & 0xffffffffull;
	}
	unsigned have = 4096 - (unsigned)(la & 0xfff);
	if (have > want)
		have = want;
	sc->phys.fetch = true;
	mmu_read_buf(c, la, sc->buf, have, ACC_X);
	if (emu_decode_single(c->dec_key, sc->buf, have, &sc->in) < 0) {
		if (have < want) {
			uint64_t la2 = c->mode == EM_LONG64 ? la + have : ((la + have) & 0xffffffffull);
			mmu_read_buf(c, la2, sc->buf + have, want - have, ACC_X);
			have = want;
		}
		if (emu_decode_single(c->dec_key, sc->buf, have, &sc->in) < 0)
			emu_gp0(c); /* runs past the CS limit */
	}
	sc->phys.fetch = false;
	return EMU_STEP_DONE;
}

static enum emu_step_result step_run(struct step_cpu *sc, const uint8_t *bytes, unsigned n,
				     struct emu_step_info *info)
{
	struct emu_cpu *c = &sc->c;
	int code = EMU_SETJMP(c);
	if (code)
		return ended(sc, code, info);
	enum emu_step_result r = fetch_decode(sc, bytes, n);
	if (r != EMU_STEP_DONE)
		return r;
	const struct emu_insn *in = &sc->in;
	info->length = in->len;
	const char *name = ZydisMnemonicGetString((ZydisMnemonic)in->mnem);
	if (name) {
		strncpy(info->mnemonic, name, sizeof info->mnemonic - 1);
		info->mnemonic[sizeof info->mnemonic - 1] = 0;
	}
	if (!runnable(in))
		return EMU_STEP_UNSUPPORTED;
	if (sse_move(in)) {
		if (!sc->fp_in)
			return EMU_STEP_NEED_FPSTATE;
		memcpy(c->s->fpstate, sc->fp_in, FP_LEGACY);
	}
	sc->rcx0 = c->s->gpr[HVX_RCX];
	c->cur = in;
	c->next_rip = (c->s->rip + in->len) & c->ip_mask;
	in->fn(c, in);
	c->s->rip = c->next_rip;
	emu_flags(c);
	return EMU_STEP_DONE;
}

enum emu_step_result emu_step(struct emu_step_state *st, const uint8_t *bytes, unsigned n,
			      const struct emu_step_mem *mem, struct emu_step_info *info)
{
	struct emu_step_info scratch;
	if (!info)
		info = &scratch;
	memset(info, 0, sizeof *info);
	info->repeats = 1;
	if (!st || !mem || !mem->ram_read || !mem->ram_write || !mem->dev_read || !mem->dev_write ||
	    (bytes && (n == 0 || n > 15)))
		return EMU_STEP_UNSUPPORTED;
	struct step_cpu *sc = step_new(st, mem);
	if (!sc)
		return EMU_STEP_NO_MEMORY;
	enum emu_step_result r = load_pdptes(sc);
	if (r == EMU_STEP_DONE)
		r = step_run(sc, bytes, n, info);
	info->dev_accesses = sc->phys.dev_accesses;
	info->gpa = sc->phys.dev_gpa;
	info->size = sc->phys.dev_size;
	info->write = sc->phys.dev_write;
	info->value = sc->phys.dev_value;
	if (r == EMU_STEP_DONE) {
		const struct emu_insn *in = &sc->in;
		if (in_list(in->fn, string_handlers, sizeof string_handlers / sizeof string_handlers[0]) && in->rep)
			info->repeats = (unsigned)((sc->rcx0 - sc->c.s->gpr[HVX_RCX]) & sz_mask(in->asz));
		if (sse_move(in) && memcmp(st->fpstate, sc->s.fpstate, FP_LEGACY)) {
			memcpy(st->fpstate, sc->s.fpstate, FP_LEGACY);
			info->fpstate_changed = true;
		}
		memcpy(st->gpr, sc->s.gpr, sizeof st->gpr);
		st->rip = sc->s.rip;
		st->rflags = sc->s.rflags & ~FL_RF; /* the instruction completed */
	}
	step_put(sc);
	return r;
}

static enum emu_step_result translate_run(struct step_cpu *sc, uint64_t la, uint64_t *gpa)
{
	struct emu_cpu *c = &sc->c;
	int code = EMU_SETJMP(c);
	if (code) {
		struct emu_step_info info;
		return ended(sc, code, &info);
	}
	mmu_ptr(c, c->mode == EM_LONG64 ? la : (la & 0xffffffffull), 1, ACC_R);
	*gpa = sc->phys.gpa;
	return EMU_STEP_DONE;
}

enum emu_step_result emu_step_translate(const struct emu_step_state *st, const struct emu_step_mem *mem, uint64_t la,
					uint64_t *gpa)
{
	if (!st || !mem || !mem->ram_read || !gpa)
		return EMU_STEP_UNSUPPORTED;
	/* A supervisor read without SMAP: only presence and reserved bits can fail. */
	struct emu_step_state probe = *st;
	probe.cr4 &= ~(CR4_SMAP | CR4_SMEP);
	probe.rflags &= ~FL_VM;
	for (unsigned i = 0; i < 6; i++)
		probe.seg[i].ar &= ~0x60u; /* DPL 0: CPL 0 */
	struct step_cpu *sc = step_new(&probe, mem);
	if (!sc)
		return EMU_STEP_NO_MEMORY;
	sc->phys.no_ad = true;
	enum emu_step_result r = load_pdptes(sc);
	if (r == EMU_STEP_DONE)
		r = translate_run(sc, la, gpa);
	step_put(sc);
	return r;
}
