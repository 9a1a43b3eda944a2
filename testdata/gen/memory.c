/*
 * memory/: how pages are found.
 *
 *   chain/pre1, chain/pre2, chain/dump   criu pre-dump, pre-dump, dump of one task, each
 *                                        with a "parent" link to the one before: pages
 *                                        that did not change are PE_PARENT entries
 *   lazy/                                criu dump --lazy-pages: PE_LAZY entries whose
 *                                        pages are not in pages-1.img
 *   old-pages/                           CRIU 0.4: pages-PID.img of vaddr:page pairs,
 *                                        pages-shmem-SHMID.img, no head magics
 *
 * Each page starts with "<folder> page <vaddr>;", so a reader that finds a page
 * in the wrong folder or at the wrong offset says so.
 */
#include <stdio.h>
#include <string.h>

#include "gen.h"

static const uint32_t threads[] = { 1 };
static const struct task memsubj = { 1, 0, 1, 1, threads, 1, "memsubj", 1, 1000 };

#define HEAP 0x1000000ull
#define STACK 0x7ffd00000000ull

static const struct vma vmas[] = {
	{ 0x400000, 0x401000, 0, 1, 1, 0x2, 0x41, -1, 0, 0 },
	{ 0x401000, 0x402000, 4096, 1, 5, 0x2, 0x41, -1, 0, 0 },
	{ 0x402000, 0x403000, 8192, 1, 3, 0x2, 0x41, -1, 0, 0 },
	{ HEAP, HEAP + 0x8000, 0, 0, 3, 0x22, 0x221, -1, 0, 0 },
	{ STACK, STACK + 0x2000, 0, 0, 3, 0x122, 0x201, -1, 0, 0 },
};

static void task_images(void)
{
	write_pstree(&memsubj, 1, ERA_4_2);
	write_core(&memsubj, 1, ERA_4_2);
	write_ids(&memsubj, ERA_4_2);
	write_fs(&memsubj, ERA_4_2);
	write_mm(&memsubj, vmas, sizeof(vmas) / sizeof(vmas[0]), ERA_4_2);
}

static void chain(void)
{
	/* pre-dump 1: everything */
	static const struct pme pre1[] = {
		{ 0x402000, 1, PE_PRESENT },
		{ HEAP, 8, PE_LAZY | PE_PRESENT },
		{ STACK, 1, PE_LAZY | PE_PRESENT },
		{ STACK + 0x1000, 1, PE_PRESENT }, /* the page under the stack pointer is never lazy */
	};
	/* pre-dump 2: heap pages 2-3 and the stack changed */
	static const struct pme pre2[] = {
		{ 0x402000, 1, PE_PARENT },
		{ HEAP, 2, PE_PARENT },
		{ HEAP + 0x2000, 2, PE_LAZY | PE_PRESENT },
		{ HEAP + 0x4000, 4, PE_PARENT },
		{ STACK, 1, PE_LAZY | PE_PRESENT },
		{ STACK + 0x1000, 1, PE_PRESENT },
	};
	/* dump: heap pages 2 and 7 and the top stack page changed; the rest is found up the chain */
	static const struct pme dump[] = {
		{ 0x402000, 1, PE_PARENT },
		{ HEAP, 2, PE_PARENT },
		{ HEAP + 0x2000, 1, PE_LAZY | PE_PRESENT },
		{ HEAP + 0x3000, 4, PE_PARENT },
		{ HEAP + 0x7000, 1, PE_LAZY | PE_PRESENT },
		{ STACK, 1, PE_PARENT },
		{ STACK + 0x1000, 1, PE_PRESENT },
	};

	gen_set("memory/chain");
	gen_set("memory/chain/pre1");
	write_inventory(2, "pre-dump");
	write_pagemap("pre1", 1, pre1, 4, ERA_4_2);
	gen_set("memory/chain/pre2");
	gen_symlink("../pre1", "parent");
	write_inventory(2, "pre-dump");
	write_pagemap("pre2", 1, pre2, 6, ERA_4_2);
	gen_set("memory/chain/dump");
	gen_symlink("../pre2", "parent");
	write_inventory(2, NULL);
	task_images();
	write_pagemap("dump", 1, dump, 7, ERA_4_2);
}

static void lazy(void)
{
	/* criu dump --lazy-pages: the lazy pages stay in the task for the page server */
	static const struct pme pm[] = {
		{ 0x402000, 1, PE_PRESENT },
		{ HEAP, 8, PE_LAZY },
		{ STACK, 1, PE_LAZY },
		{ STACK + 0x1000, 1, PE_PRESENT },
	};

	gen_set("memory/lazy");
	write_inventory(2, NULL);
	task_images();
	write_pagemap("lazy", 1, pm, 4, ERA_4_2);
}

/* CRIU 0.4 (before pagemaps): pages-PID.img holds u64 vaddr, page, vaddr, page... */
static void old_pages(void)
{
	static const uint64_t addrs[] = { 0x402000, HEAP, HEAP + 0x1000, HEAP + 0x5000, STACK + 0x1000 };
	uint8_t page[4096];

	gen_set("memory/old-pages");
	gen_image("INVENTORY");
	set_u(gen_entry(), "img_version", 1);
	gen_write("inventory.img");
	gen_image("PAGES_OLD");
	gen_no_head();
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		char t[64];

		snprintf(t, sizeof(t), "old-pages 0x%llx", (unsigned long long)addrs[i]);
		fill_page(page, t, (unsigned)i, 0);
		gen_page_entry(addrs[i], page);
	}
	gen_write("pages-1.img");
	/* a shared anonymous mapping's pages, by its shmid */
	gen_image("SHM_PAGES_OLD");
	gen_no_head();
	for (unsigned i = 0; i < 2; i++) {
		fill_page(page, "old-pages shmem", i, 7);
		gen_page_entry(i * 4096ull, page);
	}
	gen_write("pages-shmem-4653.img");
}

void gen_memory(void)
{
	chain();
	lazy();
	old_pages();
}
