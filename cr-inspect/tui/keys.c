/* Keys: what each key does, and the help screen made from the same table. */
#include <curses.h>
#include <string.h>

#include "tui.h"

#define CTRL(c) ((c) & 0x1f)

static const struct {
	int ch;
	int act;
} keymap[] = {
	{ KEY_UP, ACT_UP }, { 'k', ACT_UP }, { KEY_DOWN, ACT_DOWN }, { 'j', ACT_DOWN },
	{ KEY_LEFT, ACT_LEFT }, { 'h', ACT_LEFT }, { KEY_RIGHT, ACT_RIGHT }, { 'l', ACT_RIGHT },
	{ KEY_PPAGE, ACT_PGUP }, { CTRL('b'), ACT_PGUP }, { 'b', ACT_PGUP },
	{ KEY_NPAGE, ACT_PGDN }, { CTRL('f'), ACT_PGDN }, { ' ', ACT_PGDN },
	{ KEY_HOME, ACT_HOME }, { '<', ACT_HOME }, { KEY_END, ACT_END }, { '>', ACT_END }, { 'G', ACT_END },
	{ '\n', ACT_ENTER }, { '\r', ACT_ENTER }, { KEY_ENTER, ACT_ENTER },
	{ KEY_BACKSPACE, ACT_BACK }, { 127, ACT_BACK }, { CTRL('h'), ACT_BACK },
	{ '\t', ACT_TAB }, { KEY_BTAB, ACT_TAB },
	{ '/', ACT_SEARCH }, { KEY_F(3), ACT_SEARCH }, { 'n', ACT_NEXT }, { 'N', ACT_PREV }, { 's', ACT_SEARCH_ALL },
	{ 'g', ACT_GOTO }, { 'm', ACT_MARK }, { '\'', ACT_MARKS }, { 'e', ACT_EXPORT }, { 'v', ACT_SELECT },
	{ 'r', ACT_RAW }, { 'x', ACT_MEMORY }, { ']', ACT_NEXT_VMA }, { '[', ACT_PREV_VMA },
	{ '}', ACT_NEXT_RUN }, { '{', ACT_PREV_RUN }, { 'd', ACT_DELETE },
	{ '?', ACT_HELP }, { KEY_F(1), ACT_HELP }, { 'q', ACT_QUIT }, { 'Q', ACT_QUIT }, { KEY_F(10), ACT_QUIT },
	{ 27, ACT_ESC }, { CTRL('l'), ACT_REDRAW }, { 'c', ACT_NEXT_CHANGE }, { 'C', ACT_PREV_CHANGE },
};

int key_action(int ch)
{
	for (size_t i = 0; i < sizeof(keymap) / sizeof(keymap[0]); i++)
		if (keymap[i].ch == ch)
			return keymap[i].act;
	return ACT_NONE;
}

const char *tui_key_name(int ch, char *buf, size_t len)
{
	const char *k = keyname(ch);

	snprintf(buf, len, "%s", k ? k : "?");
	/* one word, for the trace file */
	for (char *p = buf; *p; p++)
		if (*p == ' ')
			*p = '_';
	return buf;
}

/* What the help screen says; the section headers have no keys.  diff: only in diff mode. */
static const struct {
	const char *keys, *what;
	int diff;
} help[] = {
	{ NULL, "Moving", 0 },
	{ "k j  Up Down", "move up, down", 0 },
	{ "h l  Left Right", "tree: close, open; memory: a byte back, on", 0 },
	{ "b Space PgUp PgDn", "a screen up, down (also ^B ^F)", 0 },
	{ "< > Home End G", "the first, the last line or mapping", 0 },
	{ "Tab", "switch between the tree and the view", 0 },
	{ "mouse", "click selects, double click follows, wheel scrolls", 0 },
	{ NULL, "Following", 0 },
	{ "Enter", "follow what the line shows: open a node,", 0 },
	{ "", "fd -> its file entry, mapping -> its pages,", 0 },
	{ "", "register or pointer -> the memory it points at,", 0 },
	{ "", "image -> its JSON tree", 0 },
	{ "Backspace", "go back where Enter, g, x, r or ' came from", 0 },
	{ "x", "the memory (hex view) of the cursor's task", 0 },
	{ "r", "the entry or image under the cursor, as JSON", 0 },
	{ "[ ]", "memory: the previous, the next mapping", 0 },
	{ "{ }", "memory: the previous, the next stretch of pages", 0 },
	{ "", "of another state (skips what the image lacks)", 0 },
	{ NULL, "Searching", 0 },
	{ "/", "search this view: tree, text, JSON or memory", 0 },
	{ "", "(Tab in the prompt: text, hex \"de ad\", regex)", 0 },
	{ "n N", "the next, the previous match", 0 },
	{ "s", "search every task's memory, list the matches", 0 },
	{ "g", "go to an address in the task's memory", 0 },
	{ NULL, "Marks and export", 0 },
	{ "m", "mark the address under the cursor, with a note", 0 },
	{ "'", "list the marks (Enter goes there, d deletes)", 0 },
	{ "v", "memory: start or clear a selection", 0 },
	{ "e", "export: memory -> bytes to a file (.json: JSON),", 0 },
	{ "", "elsewhere -> the entry, image or list as JSON", 0 },
	{ NULL, "Diff mode (two checkpoints)", 1 },
	{ "c C", "the next, the previous changed item of the tree", 1 },
	{ "", "(side by side memory: row that differs)", 1 },
	{ "", "~ changed, + only in B, - only in A", 1 },
	{ NULL, "Other", 0 },
	{ "? F1", "this help", 0 },
	{ "Escape", "close the help, cancel a prompt or selection", 0 },
	{ "^L", "redraw the screen", 0 },
	{ "q F10", "quit (restores the terminal, exit status 0)", 0 },
};

void keys_help(struct doc *d, int diff)
{
	static const char *const legend[] = {
		"P  present: the image holds the page",
		"^  in a parent image (an earlier dump holds it)",
		"F  file-backed: not in the image, the file holds it",
		"-  not in the image: untouched or zero (restored as 0)",
		"L  lazy: left to the page server",
		"!  missing: the image should hold it and does not",
		"*  before the marker: a mark on the row",
	};

	for (size_t i = 0; i < sizeof(help) / sizeof(help[0]); i++) {
		if (help[i].diff && !diff)
			continue;
		if (!help[i].keys) {
			if (d->n)
				doc_add(d, R_NORMAL, NULL, "%s", "");
			doc_add(d, R_HEAD, NULL, "%s", help[i].what);
			continue;
		}
		doc_add(d, R_NORMAL, NULL, "  %-18s %s", help[i].keys, help[i].what);
	}
	doc_add(d, R_NORMAL, NULL, "%s", "");
	doc_add(d, R_HEAD, NULL, "%s", "Memory: the column after the address");
	for (size_t i = 0; i < sizeof(legend) / sizeof(legend[0]); i++)
		doc_add(d, R_NORMAL, NULL, "  %s", legend[i]);
	doc_add(d, R_NORMAL, NULL, "%s", "  Bytes the image does not hold show as --");
}
