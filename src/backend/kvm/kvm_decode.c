/* kvm_decode.c: what KVM does not tell user space about an exit: guest page walks, instruction bytes, length, string/REP/immediate forms, memory operand address. */
#include <string.h>

#include "kvm.h"

#define CR4_PSE (1ull << 4)

/* Where a walk stopped because a paging-structure entry lies in guest-physical memory that is not readable. */
static _Thread_local uint64_t walk_unreadable_gpa;

/* Read a paging-structure entry; a walk being recorded (rec) notes where it lies in host memory and what it held. */
static bool read_gpa64(const struct hvx_space *sp, uint64_t gpa, uint64_t *val, unsigned size, struct kvm_xlate *rec)
{
	const struct hvx_region *r = hvx_memmap_lookup_locked(sp, gpa);
	if (!r || !(r->perms & HV_MEMORY_READ)) {
		walk_unreadable_gpa = gpa;
		return false;
	}
	const uint8_t *p = r->hva + (gpa - r->gpa);
	*val = 0;
	memcpy(val, p, size); /* entries are naturally aligned: never cross a page */
	if (rec && rec->count < 5) {
		rec->entry[rec->count] = p;
		rec->value[rec->count++] = *val;
	}
	return true;
}

/* A walk that only needs the final address: present bits are checked, permissions are not (the access already
 * happened or was attempted by the CPU). The caller holds the memory map's lock. Its result depends only on the mode
 * bits kvm_xlate_mode keeps, CR3, lin and the values of the entries it reads (recorded in rec if not NULL); page_mask (if
 * not NULL) receives the size - 1 of the page it ended in (4 KiB without paging). */
static bool translate_locked(const struct hvx_space *sp, const struct kvm_cpu_mode *m, uint64_t lin, uint64_t *gpa,
			     struct kvm_xlate *rec, uint64_t *page_mask)
{
	if (!m->pg) {
		*gpa = m->lma ? lin : (lin & 0xffffffffull);
		return true;
	}
	uint64_t e;
	if (!m->pae) { /* 32-bit paging */
		lin &= 0xffffffffull;
		if (!read_gpa64(sp, (m->cr3 & 0xfffff000ull) + ((lin >> 22) & 0x3ff) * 4, &e, 4, rec) || !(e & 1))
			return false;
		if (e & 0x80) { /* 4-MiB page (PSE-36 bits 20:13 give physical bits 39:32) */
			*gpa = (e & 0xffc00000ull) | ((e >> 13) & 0xffull) << 32 | (lin & 0x3fffff);
			if (page_mask)
				*page_mask = 0x3fffff;
			return true;
		}
		if (!read_gpa64(sp, (e & 0xfffff000ull) + ((lin >> 12) & 0x3ff) * 4, &e, 4, rec) || !(e & 1))
			return false;
		*gpa = (e & 0xfffff000ull) | (lin & 0xfff);
		return true;
	}
	const uint64_t addr_mask = 0x000ffffffffff000ull;
	int level;
	uint64_t table;
	if (m->lma) {
		level = m->la57 ? 5 : 4;
		table = m->cr3 & addr_mask;
	} else { /* PAE: PDPTE from CR3 bits 31:5 */
		lin &= 0xffffffffull;
		if (!read_gpa64(sp, (m->cr3 & 0xffffffe0ull) + ((lin >> 30) & 3) * 8, &e, 8, rec) || !(e & 1))
			return false;
		table = e & addr_mask;
		level = 2;
	}
	for (; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		if (!read_gpa64(sp, table + ((lin >> shift) & 0x1ff) * 8, &e, 8, rec) || !(e & 1))
			return false;
		if (level == 1 || (level <= 3 && (e & 0x80))) {
			uint64_t mask = (1ull << shift) - 1;
			*gpa = (e & addr_mask & ~mask) | (lin & mask);
			if (page_mask)
				*page_mask = mask;
			return true;
		}
		table = e & addr_mask;
	}
	return false;
}

bool kvm_guest_walk_fault(struct hvx_vm *vm, const struct kvm_cpu_mode *m, uint64_t lin, uint64_t *entry_gpa)
{
	uint64_t gpa;
	walk_unreadable_gpa = ~0ull;
	pthread_rwlock_rdlock(&vm->memmap.lock);
	bool ok = translate_locked(&vm->memmap.spaces[HV_VM_SPACE_DEFAULT], m, lin, &gpa, NULL, NULL);
	pthread_rwlock_unlock(&vm->memmap.lock);
	if (ok || walk_unreadable_gpa == ~0ull)
		return false;
	*entry_gpa = walk_unreadable_gpa;
	return true;
}

bool kvm_guest_translate(struct hvx_vm *vm, const struct kvm_cpu_mode *m, uint64_t lin, uint64_t *gpa)
{
	pthread_rwlock_rdlock(&vm->memmap.lock);
	bool ok = translate_locked(&vm->memmap.spaces[HV_VM_SPACE_DEFAULT], m, lin, gpa, NULL, NULL);
	pthread_rwlock_unlock(&vm->memmap.lock);
	return ok;
}

size_t kvm_guest_read_linear(struct hvx_vm *vm, const struct kvm_cpu_mode *m, uint64_t lin, void *dst, size_t len)
{
	size_t done = 0;
	uint8_t *out = dst;
	pthread_rwlock_rdlock(&vm->memmap.lock);
	const struct hvx_space *sp = &vm->memmap.spaces[HV_VM_SPACE_DEFAULT];
	while (done < len) {
		uint64_t gpa;
		if (!translate_locked(sp, m, lin + done, &gpa, NULL, NULL))
			break;
		const struct hvx_region *r = hvx_memmap_lookup_locked(sp, gpa);
		if (!r || !(r->perms & HV_MEMORY_READ))
			break;
		size_t off = gpa & HVX_PAGE_MASK, n = HVX_PAGE_SIZE - off;
		if (n > len - done)
			n = len - done;
		memcpy(out + done, r->hva + (gpa - r->gpa), n);
		done += n;
	}
	pthread_rwlock_unlock(&vm->memmap.lock);
	return done;
}

/* Walk lin's page and read from it through cached translations: a chunk inside a cached range whose walk holds is
 * copied, else the page is walked (recording the entries) and its range, the part of the guest page inside the memory
 * region, replaces the older slot. The caller holds the memory map's lock; gen is its generation. */
size_t kvm_guest_read_linear_fill(struct hvx_vm *vm, struct kvm_xlate *xlate, unsigned *next,
				  const struct kvm_cpu_mode *m, uint64_t lin, void *dst, size_t len, uint64_t gen)
{
	const struct hvx_space *sp = &vm->memmap.spaces[HV_VM_SPACE_DEFAULT];
	uint8_t *out = dst;
	size_t done = 0;
	bool checked[KVM_XLATE_SLOTS] = {false};
	while (done < len) {
		uint64_t a = lin + done;
		struct kvm_xlate *x = NULL;
		for (unsigned i = 0; i < KVM_XLATE_SLOTS && !x; i++)
			if (a - xlate[i].lo < xlate[i].size && (checked[i] || kvm_xlate_holds(&xlate[i], m, gen))) {
				x = &xlate[i];
				checked[i] = true;
			}
		if (!x) {
			struct kvm_xlate w = {.cr3 = m->cr3, .mode = kvm_xlate_mode(m), .entry_size = m->pae ? 8 : 4};
			uint64_t gpa, page_mask = HVX_PAGE_MASK;
			if (!translate_locked(sp, m, a, &gpa, &w, &page_mask))
				break;
			const struct hvx_region *r = hvx_memmap_lookup_locked(sp, gpa);
			if (!r || !(r->perms & HV_MEMORY_READ))
				break;
			/* The guest page, cut to the region: every address in it takes the same walk to the same region. */
			uint64_t glo = gpa & ~page_mask, ghi = glo + page_mask + 1;
			if (glo < r->gpa)
				glo = r->gpa;
			if (ghi > r->gpa + r->size)
				ghi = r->gpa + r->size;
			w.lo = a - (gpa - glo);
			w.size = ghi - glo;
			w.host = r->hva + (glo - r->gpa);
			w.gen = gen;
			x = &xlate[*next % KVM_XLATE_SLOTS];
			*next = (*next + 1) % KVM_XLATE_SLOTS;
			*x = w;
			checked[x - xlate] = true;
		}
		size_t n = x->size - (a - x->lo);
		if (n > len - done)
			n = len - done;
		memcpy(out + done, x->host + (a - x->lo), n);
		done += n;
	}
	return done;
}

/* Opcode properties, one bit per opcode (bit n of word n/32). */
#define B(o) (1u << ((o) & 31))
/* One-byte opcodes with a ModRM byte. */
static const uint32_t modrm1[8] = {
	0x0f0f0f0f, 0x0f0f0f0f, 0x00000000, 0x00000a0c, 0x0000ffff, 0x00000000, 0xff0f00f3, 0xc0c00000,
};
/* 0F-map opcodes without a ModRM byte. */
static const uint32_t nomodrm2[8] = {
	B(0x05) | B(0x06) | B(0x07) | B(0x08) | B(0x09) | B(0x0b) | B(0x0e), /* 00-1f */
	B(0x30) | B(0x31) | B(0x32) | B(0x33) | B(0x34) | B(0x35) | B(0x37), /* 20-3f */
	0,                                                                   /* 40-5f */
	B(0x77),                                                             /* 60-7f */
	0x0000ffff,                                                          /* 80-9f: Jcc rel */
	B(0xa0) | B(0xa1) | B(0xa2) | B(0xa8) | B(0xa9) | B(0xaa),           /* a0-bf */
	0x0000ff00,                                                          /* c8-cf: BSWAP */
	0,
};
/* One-byte opcodes with an 8-bit immediate. */
static const uint32_t imm8_1[8] = {
	B(0x04) | B(0x0c) | B(0x14) | B(0x1c),
	B(0x24) | B(0x2c) | B(0x34) | B(0x3c),
	0,
	B(0x6a) | B(0x6b) | 0xffff0000u,                         /* 70-7f: Jcc rel8 */
	B(0x80) | B(0x82) | B(0x83),
	B(0xa8) | 0x00ff0000u,                                   /* b0-b7: MOV r8, imm8 */
	B(0xc0) | B(0xc1) | B(0xc6) | B(0xcd) | B(0xd4) | B(0xd5),
	0x000000ffu | B(0xeb),                                   /* e0-e7: LOOP/JCXZ/IN/OUT imm8 */
};
static bool bit(const uint32_t *t, uint8_t o) { return (t[o >> 5] >> (o & 31)) & 1; }

static unsigned seg_default_for(unsigned base_reg)
{
	return (base_reg == 4 || base_reg == 5) ? 2 /* SS */ : 3 /* DS */;
}

static uint64_t reg_of(const struct kvm_regs *r, unsigned n)
{
	const uint64_t v[16] = {r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
				r->r8,  r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15};
	return v[n & 15];
}

/* Read-modify-write forms (memory operand read and written). */
static bool is_rmw(const struct kvm_insn *d)
{
	unsigned reg = (d->modrm >> 3) & 7;
	uint8_t o = d->opcode;
	if (d->map == 0) {
		if (o < 0x40 && (o & 7) <= 1 && (o & 0x38) != 0x38)
			return true;
		switch (o) {
		case 0x80: case 0x81: case 0x82: case 0x83: return reg != 7;
		case 0x86: case 0x87: case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: return true;
		case 0xf6: case 0xf7: return reg == 2 || reg == 3;
		case 0xfe: case 0xff: return reg <= 1;
		default: return false;
		}
	}
	if (d->map == 1) {
		switch (o) {
		case 0xb0: case 0xb1: case 0xc0: case 0xc1: case 0xab: case 0xb3: case 0xbb: return true;
		case 0xba: return reg >= 5;
		case 0xc7: return reg == 1;
		default: return false;
		}
	}
	return false;
}

__attribute__((hot)) bool kvm_decode(const uint8_t *b, size_t n, bool long64, bool def32, const struct kvm_regs *regs, struct kvm_insn *d)
{
	memset(d, 0, sizeof *d);
	d->seg = -1;
	bool opsize_pfx = false, addr_pfx = false;
	size_t i = 0;
	for (; i < n && i < 15; i++) {
		uint8_t p = b[i];
		if (p == 0x66) opsize_pfx = true;
		else if (p == 0x67) addr_pfx = true;
		else if (p == 0xf0) d->lock = true;
		else if (p == 0xf3) { d->rep = true; d->repne = false; }
		else if (p == 0xf2) { d->repne = true; d->rep = false; }
		else if (p == 0x26) d->seg = 0;
		else if (p == 0x2e) d->seg = 1;
		else if (p == 0x36) d->seg = 2;
		else if (p == 0x3e) d->seg = 3;
		else if (p == 0x64) d->seg = 4;
		else if (p == 0x65) d->seg = 5;
		else break;
	}
	if (long64 && i < n && (b[i] & 0xf0) == 0x40)
		d->rex = b[i++];
	if (i >= n)
		return false;
	bool rex_w = d->rex & 8;
	d->opsize = long64 ? (rex_w ? 8 : opsize_pfx ? 2 : 4) : ((def32 != opsize_pfx) ? 4 : 2);
	d->p66 = opsize_pfx;
	d->addrsize = long64 ? (addr_pfx ? 4 : 8) : ((def32 != addr_pfx) ? 4 : 2);
	unsigned imm = 0;
	uint8_t o = b[i++];
	bool vex = false;
	if ((o == 0xc4 || o == 0xc5 || o == 0x62) && i < n && (long64 || (b[i] & 0xc0) == 0xc0)) {
		/* VEX / EVEX: map from the prefix, always a ModRM byte. */
		vex = true;
		unsigned plen = o == 0xc5 ? 1 : o == 0xc4 ? 2 : 3;
		if (i + plen >= n)
			return false;
		d->map = o == 0xc5 ? 1 : (b[i] & 3);
		if (o != 0xc5 && (b[i + 1] & 0x80))
			d->rex |= 8;
		i += plen;
		o = b[i++];
		d->has_modrm = !(d->map == 1 && o == 0x77);
		imm = d->map == 3 || (d->map == 1 && (o == 0xc2 || o == 0xc4 || o == 0xc5 || o == 0xc6 ||
						      (o >= 0x70 && o <= 0x73))) ? 1 : 0;
	} else if (o == 0x0f) {
		if (i >= n)
			return false;
		o = b[i++];
		if (o == 0x38 || o == 0x3a) {
			d->map = o == 0x38 ? 2 : 3;
			if (i >= n)
				return false;
			o = b[i++];
			d->has_modrm = true;
			imm = d->map == 3;
		} else {
			d->map = 1;
			d->has_modrm = !bit(nomodrm2, o);
			if ((o >= 0x70 && o <= 0x73) || o == 0x0f || o == 0xa4 || o == 0xac || o == 0xba ||
			    o == 0xc2 || (o >= 0xc4 && o <= 0xc6))
				imm = 1;
			else if (o >= 0x80 && o <= 0x8f)
				imm = d->opsize == 2 ? 2 : 4;
		}
	} else {
		d->has_modrm = bit(modrm1, o);
		if (bit(imm8_1, o))
			imm = 1;
		else if (((o & 0xc7) == 0x05 && o < 0x40) || o == 0x68 || o == 0x69 || o == 0x81 || o == 0xa9 || o == 0xc7 ||
			 o == 0xe8 || o == 0xe9)
			imm = d->opsize == 2 ? 2 : 4;
		else if (o >= 0xb8 && o <= 0xbf)
			imm = d->opsize;
		else if (o >= 0xa0 && o <= 0xa3)
			imm = d->addrsize;
		else if (o == 0xc2 || o == 0xca)
			imm = 2;
		else if (o == 0xc8)
			imm = 3;
		else if ((o == 0x9a || o == 0xea) && !long64)
			imm = d->opsize + 2;
	}
	(void)vex;
	d->opcode = o;
	if (d->has_modrm) {
		if (i >= n)
			return false;
		d->modrm = b[i++];
		unsigned mod = d->modrm >> 6, rm = d->modrm & 7, reg = (d->modrm >> 3) & 7;
		if (d->map == 0 && (o == 0xf6 || o == 0xf7) && reg <= 1)
			imm = o == 0xf6 ? 1 : (d->opsize == 2 ? 2 : 4);
		if (mod != 3) {
			d->mem = true;
			uint64_t ea = 0;
			unsigned base_reg = 0;
			int64_t disp = 0;
			bool rip_rel = false;
			if (d->addrsize == 2) {
				static const uint8_t b16[8][2] = {{3, 6}, {3, 7}, {5, 6}, {5, 7}, {6, 16}, {7, 16}, {5, 16}, {3, 16}};
				if (mod == 0 && rm == 6) {
					if (i + 2 > n)
						return false;
					disp = (int16_t)(b[i] | b[i + 1] << 8);
					i += 2;
					base_reg = 0;
				} else {
					ea = reg_of(regs, b16[rm][0]);
					if (b16[rm][1] < 16)
						ea += reg_of(regs, b16[rm][1]);
					base_reg = (rm == 2 || rm == 3 || rm == 6) ? 5 : 3;
				}
				if (mod == 1) {
					if (i >= n)
						return false;
					disp = (int8_t)b[i++];
				} else if (mod == 2) {
					if (i + 2 > n)
						return false;
					disp = (int16_t)(b[i] | b[i + 1] << 8);
					i += 2;
				}
				ea = (ea + (uint64_t)disp) & 0xffff;
			} else {
				bool has_base = true;
				if (rm == 4) {
					if (i >= n)
						return false;
					uint8_t sib = b[i++];
					unsigned scale = sib >> 6, index = ((sib >> 3) & 7) | ((d->rex & 2) << 2),
						 base = (sib & 7) | ((d->rex & 1) << 3);
					if (index != 4)
						ea += reg_of(regs, index) << scale;
					if ((sib & 7) == 5 && mod == 0) {
						has_base = false;
						if (i + 4 > n)
							return false;
						disp = (int32_t)(b[i] | b[i + 1] << 8 | b[i + 2] << 16 | (uint32_t)b[i + 3] << 24);
						i += 4;
					} else {
						base_reg = base;
					}
				} else if (rm == 5 && mod == 0) {
					has_base = false;
					rip_rel = long64;
					if (i + 4 > n)
						return false;
					disp = (int32_t)(b[i] | b[i + 1] << 8 | b[i + 2] << 16 | (uint32_t)b[i + 3] << 24);
					i += 4;
				} else {
					base_reg = rm | ((d->rex & 1) << 3);
				}
				if (has_base)
					ea += reg_of(regs, base_reg);
				if (mod == 1) {
					if (i >= n)
						return false;
					disp = (int8_t)b[i++];
				} else if (mod == 2) {
					if (i + 4 > n)
						return false;
					disp = (int32_t)(b[i] | b[i + 1] << 8 | b[i + 2] << 16 | (uint32_t)b[i + 3] << 24);
					i += 4;
				}
				ea += (uint64_t)disp;
				if (rip_rel)
					ea += regs->rip + i + imm; /* next instruction's RIP */
				if (d->addrsize == 4)
					ea &= 0xffffffffull;
				if (!has_base)
					base_reg = 0;
			}
			d->ea = ea;
			d->ea_seg = d->seg >= 0 ? d->seg : (int)seg_default_for(base_reg & 7);
			if (d->addrsize != 2 && (base_reg & 7) != 4 && (base_reg & 7) != 5)
				d->ea_seg = d->seg >= 0 ? d->seg : 3;
		}
	}
	i += imm;
	if (i > n || i > 15)
		return false;
	d->len = (unsigned)i;
	d->rmw = d->mem && is_rmw(d);
	return true;
}
