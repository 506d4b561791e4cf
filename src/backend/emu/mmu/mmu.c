/* mmu.c: guest memory for the emu CPU: segmentation checks, the page walk (32-bit, PAE, 4/5-level), EPT checks against the memory map, and the software TLB. */
#include <string.h>

#include "backend/emu/emu.h"

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define MAXPHY 48
#define ADDR_MASK (((1ull << MAXPHY) - 1) & ~0xfffull)

/* ---- code pages: a bitmap of guest-physical pages holding decoded code ---- */
#define CODE_BITS (1u << 20)
static inline uint64_t *code_bitmap(struct emu_cpu *c)
{
	return c->code_bits;
}

bool mmu_code_page(struct emu_cpu *c, uint64_t gpa)
{
	uint64_t p = (gpa >> 12) & (CODE_BITS - 1);
	return (code_bitmap(c)[p >> 6] >> (p & 63)) & 1;
}

void mmu_mark_code(struct emu_cpu *c, uint64_t gpa)
{
	uint64_t p = (gpa >> 12) & (CODE_BITS - 1);
	uint64_t *bm = code_bitmap(c);
	if ((bm[p >> 6] >> (p & 63)) & 1)
		return;
	bm[p >> 6] |= 1ull << (p & 63);
	emu_jc_drop(c);
	/* Writes to this page must take the slow path from now on. */
	for (unsigned i = 0; i < EMU_TLB_SIZE; i++)
		if (((c->tlb[i].gpa ^ gpa) >> 12 & (CODE_BITS - 1)) == 0)
			c->tlb[i].tag_w = 0;
}

/* ---- TLB ---- */
void mmu_flush(struct emu_cpu *c, bool include_global)
{
	emu_jc_drop(c);
	for (unsigned i = 0; i < EMU_TLB_SIZE; i++)
		if (include_global || !c->tlb[i].global)
			memset(&c->tlb[i], 0, sizeof c->tlb[i]);
}

void mmu_invlpg(struct emu_cpu *c, uint64_t la)
{
	emu_jc_drop(c);
	/* Large pages may cover many 4-KiB entries: drop every entry of the same large-page frame conservatively. */
	uint64_t page = la & ~0xfffull;
	for (unsigned i = 0; i < EMU_TLB_SIZE; i++) {
		struct emu_tlb_entry *e = &c->tlb[i];
		uint64_t t = (e->tag_r | e->tag_w | e->tag_x) & ~1ull;
		if ((e->tag_r | e->tag_w | e->tag_x) && ((t >> 21) == (page >> 21) || (t >> 30) == (page >> 30)))
			memset(e, 0, sizeof *e);
	}
}

void mmu_sync_gen(struct emu_cpu *c)
{
	uint64_t g = atomic_load_explicit(&c->vm->memmap.generation, memory_order_acquire);
	if (g != c->memmap_gen) {
		mmu_flush(c, true);
		c->memmap_gen = g;
	}
	atomic_store_explicit(&c->seen_gen, g, memory_order_release);
}

/* ---- EPT (the memory map) ---- */
static uint8_t *ept_page(struct emu_cpu *c, uint64_t gpa, unsigned acc, uint64_t la, bool la_valid, bool final,
			 uint32_t *perms_out)
{
	uint8_t *page = NULL;
	uint32_t perms = 0;
	if (gpa >= (1ull << MAXPHY) || !hvx_memmap_translate(&c->vm->memmap, c->vcpu->space, gpa, &page, &perms))
		vmx_exit_ept(c, gpa, la, la_valid, final, acc, 0, false);
	if ((perms & (HV_MEMORY_READ | HV_MEMORY_WRITE)) == HV_MEMORY_WRITE)
		vmx_exit_ept(c, gpa, la, la_valid, final, acc, perms, true);
	bool spp_page = false;
	if ((acc & ACC_W) && (perms & (HV_MEMORY_READ | HV_MEMORY_WRITE)) == HV_MEMORY_READ && la_valid && final &&
	    spp_on(c)) {
		if (spp_write(c, gpa, la, perms, &spp_page)) {
			if (perms_out)
				*perms_out = perms; /* still not writable: the TLB keeps sending writes here */
			return page;
		}
		if (spp_page)
			perms |= EMU_PERM_SPP;
	}
	if (((acc & ACC_R) && !(perms & HV_MEMORY_READ)) || ((acc & ACC_W) && !(perms & HV_MEMORY_WRITE)) ||
	    ((acc & ACC_X) && !(perms & HV_MEMORY_EXEC)))
		vmx_exit_ept(c, gpa, la, la_valid, final, acc, perms, false);
	if (!final && apicv_page(c, gpa))
		apicv_exit_physical(c); /* a guest-physical access to the APIC-access page (below EPT violations) */
	if (perms_out)
		*perms_out = perms;
	return page;
}

/* A paging-structure entry: read it (EPT read) and return a host pointer for A/D updates. */
static uint64_t pte_read(struct emu_cpu *c, uint64_t gpa, unsigned size, uint64_t la, uint8_t **host)
{
	if (c->phys) {
		*host = NULL;
		return emu_phys_pte_read(c, gpa, size);
	}
	uint8_t *page = ept_page(c, gpa, ACC_R, la, true, false, NULL);
	*host = page + (gpa & 0xfff);
	if (size == 4) {
		uint32_t v;
		memcpy(&v, *host, 4);
		return v;
	}
	uint64_t v;
	memcpy(&v, *host, 8);
	return v;
}

/* Reserved bits of a present PAE PDPTE (SDM 4.4.1): 2:1, 8:5 and above the physical-address width. */
bool mmu_pdpte_reserved(uint64_t pdpte)
{
	return (pdpte & PTE_P) && (pdpte & (0x1e6ull | (~0ull << MAXPHY)));
}

/*
 * MOV to CR0/CR3/CR4 that (re)establishes PAE paging loads the four PDPTE registers from the 32-byte table at cr3
 * (guest-physical reads, EPT-checked, no linear address); a present entry with reserved bits set is #GP(0) and
 * nothing is loaded. The caller has not committed the CR write yet.
 */
void mmu_pae_load_pdptes(struct emu_cpu *c, uint64_t cr3)
{
	uint64_t e[4];
	for (unsigned i = 0; i < 4; i++) {
		uint64_t gpa = (cr3 & 0xffffffe0ull) + i * 8;
		uint8_t *page = ept_page(c, gpa, ACC_R, 0, false, false, NULL);
		memcpy(&e[i], page + (gpa & 0xfff), 8);
		if (mmu_pdpte_reserved(e[i]))
			emu_gp0(c);
	}
	for (unsigned i = 0; i < 4; i++)
		c->v[HVX_SLOT_GUEST_PDPTE0 + i] = e[i];
}

static void pte_set_bits(struct emu_cpu *c, uint64_t gpa, uint8_t *host, unsigned size, uint64_t cur, uint64_t bits,
			 uint64_t la)
{
	if ((cur & bits) == bits)
		return;
	if (c->phys) {
		emu_phys_pte_set(c, gpa, size, bits);
		return;
	}
	uint32_t perms;
	ept_page(c, gpa, ACC_W, la, true, false, &perms);
	if (pml_on(c))
		pml_write(c, gpa); /* a paging-structure A/D update is a write: EPT dirty flag, PML */
	if (size == 4)
		__atomic_fetch_or((uint32_t *)(void *)host, (uint32_t)bits, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_or((uint64_t *)(void *)host, bits, __ATOMIC_SEQ_CST);
	if (mmu_code_page(c, gpa)) {
		c->code_dirty = true;
		c->stop = true;
	}
}

struct pte_ref {
	uint64_t gpa;
	uint8_t *host;
	uint64_t val;
};

struct walk {
	uint64_t gpa;
	bool user, write, nx, global, dirty;
};

static bool user_access(struct emu_cpu *c, unsigned acc)
{
	return c->cpl == 3 && !(acc & ACC_SUPER);
}

static void page_fault(struct emu_cpu *c, uint64_t la, unsigned acc, uint32_t bits)
{
	uint32_t err = bits;
	if (acc & ACC_W)
		err |= 2;
	if (user_access(c, acc))
		err |= 4;
	if ((acc & ACC_X) && ((c->v[HVX_SLOT_GUEST_IA32_EFER] & EFER_NXE) || (c->v[HVX_SLOT_GUEST_CR4] & CR4_SMEP)))
		err |= 16;
	emu_pf(c, la, err);
}

/* Translate la; faults (#PF) or exits (EPT) on failure. Sets A/D bits for this access. */
static void walk(struct emu_cpu *c, uint64_t la, unsigned acc, struct walk *w)
{
	uint64_t cr3 = c->v[HVX_SLOT_GUEST_CR3], cr4 = c->v[HVX_SLOT_GUEST_CR4];
	bool nxe = c->v[HVX_SLOT_GUEST_IA32_EFER] & EFER_NXE;
	w->user = w->write = true;
	w->nx = false;
	w->global = false;
	uint64_t rsvd_nx = nxe ? 0 : PTE_NX;
	uint64_t ent = 0, ent_gpa = 0;
	uint8_t *host = NULL;
	unsigned esize = 8;
	int level;
	uint64_t table;
	struct pte_ref path[5];
	int np = 0;

	if (c->paging == 2) {
		esize = 4;
		table = cr3 & 0xfffff000ull;
		ent_gpa = table + ((la >> 22) & 0x3ff) * 4;
		ent = pte_read(c, ent_gpa, 4, la, &host);
		if (!(ent & PTE_P))
			page_fault(c, la, acc, 0);
		path[np++] = (struct pte_ref){ent_gpa, host, ent};
		w->user &= !!(ent & PTE_U);
		w->write &= !!(ent & PTE_W);
		if ((ent & PTE_PS) && (cr4 & CR4_PSE)) {
			if (ent & (1ull << 21))
				page_fault(c, la, acc, 9);
			w->gpa = (ent & 0xffc00000ull) | ((ent >> 13 & 0xff) << 32) | (la & 0x3fffff);
			w->global = (ent & PTE_G) && (cr4 & CR4_PGE);
			level = 1;
		} else {
			table = ent & 0xfffff000ull;
			ent_gpa = table + ((la >> 12) & 0x3ff) * 4;
			ent = pte_read(c, ent_gpa, 4, la, &host);
			if (!(ent & PTE_P))
				page_fault(c, la, acc, 0);
			path[np++] = (struct pte_ref){ent_gpa, host, ent};
			w->user &= !!(ent & PTE_U);
			w->write &= !!(ent & PTE_W);
			w->gpa = (ent & 0xfffff000ull) | (la & 0xfff);
			w->global = (ent & PTE_G) && (cr4 & CR4_PGE);
		}
	} else {
		int top;
		if (c->paging == 3) {
			/*
			 * PAE: the PDPTE registers, i.e. the VMCS guest PDPTE fields (loaded by VM entry with EPT, and by
			 * MOV to CR0/CR3/CR4: mmu_pae_load_pdptes). Their reserved bits were checked when they were loaded.
			 */
			ent = c->v[HVX_SLOT_GUEST_PDPTE0 + ((la >> 30) & 3)];
			if (!(ent & PTE_P))
				page_fault(c, la, acc, 0);
			table = ent & ADDR_MASK;
			top = 2;
		} else {
			top = c->paging == 5 ? 5 : 4;
			table = cr3 & ADDR_MASK;
		}
		for (level = top; level >= 1; level--) {
			ent_gpa = table + ((la >> (12 + 9 * (level - 1))) & 0x1ff) * 8;
			ent = pte_read(c, ent_gpa, 8, la, &host);
			if (!(ent & PTE_P))
				page_fault(c, la, acc, 0);
			uint64_t rsvd = (~0ull << MAXPHY) & ~(0x7ffull << 52) & ~PTE_NX;
			rsvd |= rsvd_nx;
			if (level >= 4 && (ent & PTE_PS))
				rsvd |= PTE_PS;
			if (level == 3 && (ent & PTE_PS))
				rsvd |= 0x3fffe000ull;
			if (level == 2 && (ent & PTE_PS))
				rsvd |= 0x1fe000ull;
			if (ent & rsvd)
				page_fault(c, la, acc, 9);
			path[np++] = (struct pte_ref){ent_gpa, host, ent};
			w->user &= !!(ent & PTE_U);
			w->write &= !!(ent & PTE_W);
			w->nx |= nxe && (ent & PTE_NX);
			if (level == 1 || ((level == 2 || level == 3) && (ent & PTE_PS))) {
				uint64_t span = 1ull << (12 + 9 * (level - 1));
				w->gpa = (ent & ADDR_MASK & ~(span - 1)) | (la & (span - 1));
				w->global = (ent & PTE_G) && (cr4 & CR4_PGE);
				break;
			}
			table = ent & ADDR_MASK;
		}
	}
	/* Permission checks. */
	bool user = user_access(c, acc);
	bool wp = c->v[HVX_SLOT_GUEST_CR0] & CR0_WP;
	if (user && !w->user)
		page_fault(c, la, acc, 1);
	if ((acc & ACC_W) && !w->write && (user || wp))
		page_fault(c, la, acc, 1);
	if ((acc & ACC_X) && w->nx)
		page_fault(c, la, acc, 1);
	if (!user && w->user) {
		if ((acc & ACC_X) && (cr4 & CR4_SMEP))
			page_fault(c, la, acc, 1);
		if (!(acc & ACC_X) && (cr4 & CR4_SMAP) && ((acc & ACC_SUPER) || !(emu_flags(c) & FL_AC)))
			page_fault(c, la, acc, 1);
	}
	/* Accessed bits on every level, dirty on the leaf for writes. */
	for (int i = 0; i < np; i++) {
		uint64_t bits = PTE_A;
		if (i == np - 1 && (acc & ACC_W))
			bits |= PTE_D;
		pte_set_bits(c, path[i].gpa, path[i].host, esize, path[i].val, bits, la);
	}
	w->dirty = (acc & ACC_W) || (path[np - 1].val & PTE_D);
}

/*
 * Translate and check one access of n bytes; returns the host pointer of the page; fills the TLB when possible. An
 * access to the APIC-access page returns NULL with *apic set to the virtual-APIC bytes (or exits): such a page never
 * enters the TLB.
 */
static uint8_t *translate(struct emu_cpu *c, uint64_t la, unsigned n, unsigned acc, uint8_t **apic)
{
	struct walk w = {0};
	uint64_t gpa;
	if (c->paging) {
		walk(c, la, acc, &w);
		gpa = w.gpa;
	} else {
		gpa = c->mode == EM_LONG64 ? la : (la & 0xffffffffull);
		w.user = w.write = true;
		w.dirty = true;
	}
	if (c->phys) {
		c->phys->gpa = gpa; /* one-instruction mode: the caller goes to the callbacks, nothing is cached */
		return NULL;
	}
	uint32_t perms;
	uint8_t *page = ept_page(c, gpa, acc & (ACC_R | ACC_W | ACC_X), la, true, true, &perms);
	if (apicv_page(c, gpa)) {
		*apic = apicv_access(c, la, n, acc);
		return NULL; /* the APIC-access page's memory is not accessed (no PML entry either) */
	}
	bool ept_dirty = true; /* with PML (EPT A/D on) a TLB entry allows writes only once the page is EPT-dirty */
	if (pml_on(c)) {
		if (acc & ACC_W)
			pml_write(c, gpa);
		else
			ept_dirty = emu_dirty_test(c, gpa);
	}
	if ((acc & ACC_W) && mmu_code_page(c, gpa)) {
		c->code_dirty = true;
		c->stop = true;
	}
	/* Fill the TLB for the current privilege context (not for implicit supervisor accesses from CPL 3). */
	if (!((acc & ACC_SUPER) && c->cpl == 3)) {
		struct emu_tlb_entry *e = &c->tlb[(la >> 12) & (EMU_TLB_SIZE - 1)];
		uint64_t tag = (la & ~0xfffull) | 1;
		bool same = e->host == (uintptr_t)page && ((e->tag_r | e->tag_w | e->tag_x) & ~1ull) == (tag & ~1ull);
		if (!same)
			memset(e, 0, sizeof *e);
		e->host = (uintptr_t)page;
		e->gpa = gpa & ~0xfffull;
		e->global = w.global;
		bool user = c->cpl == 3;
		uint64_t cr4 = c->v[HVX_SLOT_GUEST_CR4];
		bool wp = c->v[HVX_SLOT_GUEST_CR0] & CR0_WP;
		bool smap_block = !user && w.user && (cr4 & CR4_SMAP) && c->paging;
		bool r_ok = (perms & HV_MEMORY_READ) && (!smap_block);
		bool w_ok = (perms & HV_MEMORY_WRITE) && (w.write || (!user && !wp)) && w.dirty && !smap_block &&
			    !mmu_code_page(c, gpa) && ept_dirty;
		bool x_ok = (perms & HV_MEMORY_EXEC) && !w.nx && !(!user && w.user && (cr4 & CR4_SMEP) && c->paging);
		if (acc & ACC_R || r_ok)
			e->tag_r = r_ok ? tag : 0;
		if (w_ok)
			e->tag_w = tag;
		if (x_ok)
			e->tag_x = tag;
	}
	return page;
}

static inline struct emu_tlb_entry *tlb_of(struct emu_cpu *c, uint64_t la)
{
	return &c->tlb[(la >> 12) & (EMU_TLB_SIZE - 1)];
}

uint8_t *mmu_ptr(struct emu_cpu *c, uint64_t la, unsigned n, unsigned acc)
{
	if ((la & 0xfff) + n > 4096)
		return NULL;
	struct emu_tlb_entry *e = tlb_of(c, la);
	uint64_t tag = (la & ~0xfffull) | 1;
	if (!(acc & ACC_SUPER) || c->cpl < 3) {
		if ((acc & ACC_W) ? e->tag_w == tag : (acc & ACC_X) ? e->tag_x == tag : e->tag_r == tag)
			return (uint8_t *)e->host + (la & 0xfff);
	}
	uint8_t *apic = NULL;
	uint8_t *page = translate(c, la, n, acc, &apic);
	if (c->spp.armed)
		spp_check_range(c, n, acc);
	return page ? page + (la & 0xfff) : apic; /* NULL in one-instruction mode (c->phys) */
}

uint64_t mmu_read_lin(struct emu_cpu *c, uint64_t la, unsigned size, unsigned acc)
{
	uint64_t v = 0;
	uint8_t *p = mmu_ptr(c, la, size, acc | ACC_R);
	if (p) {
		memcpy(&v, p, size);
		return v;
	}
	if (c->phys && (la & 0xfff) + size <= 4096) {
		emu_phys_read(c, c->phys->gpa, &v, size); /* one-instruction mode: translated just above */
		return v;
	}
	mmu_read_buf(c, la, &v, size, acc);
	return v;
}

void mmu_write_lin(struct emu_cpu *c, uint64_t la, unsigned size, uint64_t val, unsigned acc)
{
	uint8_t *p = mmu_ptr(c, la, size, acc | ACC_W);
	if (p) {
		memcpy(p, &val, size);
		return;
	}
	if (c->phys && (la & 0xfff) + size <= 4096) {
		emu_phys_write(c, c->phys->gpa, &val, size);
		return;
	}
	mmu_write_buf(c, la, &val, size, acc);
}

void mmu_read_buf(struct emu_cpu *c, uint64_t la, void *dst, unsigned n, unsigned acc)
{
	uint8_t *d = dst;
	while (n) {
		unsigned chunk = 4096 - (la & 0xfff);
		if (chunk > n)
			chunk = n;
		uint8_t *p = mmu_ptr(c, la, chunk, acc | ACC_R);
		if (p)
			memcpy(d, p, chunk);
		else
			emu_phys_read(c, c->phys->gpa, d, chunk);
		d += chunk;
		la += chunk;
		n -= chunk;
		if (c->mode != EM_LONG64)
			la &= 0xffffffffull;
	}
}

void mmu_write_buf(struct emu_cpu *c, uint64_t la, const void *src, unsigned n, unsigned acc)
{
	/* Check every page before writing any byte, so a faulting write changes nothing. */
	uint8_t *ptrs[2];
	uint64_t gpas[2] = {0, 0};
	unsigned lens[2], k = 0;
	uint64_t a = la;
	unsigned left = n;
	while (left && k < 2) {
		unsigned chunk = 4096 - (a & 0xfff);
		if (chunk > left)
			chunk = left;
		ptrs[k] = mmu_ptr(c, a, chunk, acc | ACC_W);
		if (!ptrs[k])
			gpas[k] = c->phys->gpa;
		lens[k++] = chunk;
		a += chunk;
		if (c->mode != EM_LONG64)
			a &= 0xffffffffull;
		left -= chunk;
	}
	const uint8_t *s = src;
	for (unsigned i = 0; i < k; i++) {
		if (ptrs[i])
			memcpy(ptrs[i], s, lens[i]);
		else
			emu_phys_write(c, gpas[i], s, lens[i]);
		s += lens[i];
	}
}

unsigned mmu_fetch(struct emu_cpu *c, uint64_t la, uint8_t *dst, unsigned n, uint64_t *gpa_out)
{
	uint8_t *p = mmu_ptr(c, la, 1, ACC_X);
	struct emu_tlb_entry *e = tlb_of(c, la);
	if (gpa_out)
		*gpa_out = (e->tag_x == ((la & ~0xfffull) | 1)) ? e->gpa | (la & 0xfff) : ~0ull;
	unsigned avail = 4096 - (la & 0xfff);
	if (avail > n)
		avail = n;
	memcpy(dst, p, avail);
	return avail;
}

/* ---- segmentation ---- */
static _Noreturn void seg_fault(struct emu_cpu *c, unsigned seg)
{
	emu_fault(c, seg == SEG_SS ? EXC_SS : EXC_GP, true, 0);
}

uint64_t seg_linear(struct emu_cpu *c, unsigned seg, uint64_t off, unsigned size, unsigned acc)
{
	if (c->mode == EM_LONG64) {
		uint64_t la = off + (seg >= SEG_FS ? c->sc[seg].base : 0);
		if (!emu_canonical(c, la) || !emu_canonical(c, la + size - 1))
			seg_fault(c, seg);
		return la;
	}
	const struct emu_seg_cache *s = &c->sc[seg];
	if ((acc & ACC_W) ? !s->w : !s->r)
		seg_fault(c, seg);
	if (off < s->lo || off + size - 1 > s->hi || off + size - 1 < off)
		seg_fault(c, seg);
	return (s->base + off) & 0xffffffffull;
}

uint64_t mem_read(struct emu_cpu *c, unsigned seg, uint64_t off, unsigned size)
{
	uint64_t la = seg_linear(c, seg, off, size, ACC_R);
	struct emu_tlb_entry *e = tlb_of(c, la);
	if (e->tag_r == ((la & ~0xfffull) | 1) && (la & 0xfff) + size <= 4096) {
		uint64_t v = 0;
		memcpy(&v, (uint8_t *)e->host + (la & 0xfff), size);
		return v;
	}
	return mmu_read_lin(c, la, size, 0);
}

void mem_write(struct emu_cpu *c, unsigned seg, uint64_t off, unsigned size, uint64_t val)
{
	uint64_t la = seg_linear(c, seg, off, size, ACC_W);
	struct emu_tlb_entry *e = tlb_of(c, la);
	if (e->tag_w == ((la & ~0xfffull) | 1) && (la & 0xfff) + size <= 4096) {
		memcpy((uint8_t *)e->host + (la & 0xfff), &val, size);
		return;
	}
	mmu_write_lin(c, la, size, val, 0);
}
