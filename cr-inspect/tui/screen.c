/* The terminal: curses set up and torn down, colours, the frame (title, panes, status, message), prompts. */
#include <curses.h>
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <unistd.h>
#include <wchar.h>

#include "tui.h"

/* Colours of each role (foreground, background; -1 is the terminal's own), and attributes with and without colour. */
static const struct {
	short fg, bg;
	int attr;      /* with colour */
	int mono;      /* without */
} roles[R__COUNT] = {
	[R_NORMAL]  = { -1, -1, 0, 0 },
	[R_TITLE]   = { -1, -1, A_REVERSE | A_BOLD, A_REVERSE | A_BOLD },
	[R_STATUS]  = { -1, -1, A_REVERSE, A_REVERSE },
	[R_CURSOR]  = { -1, -1, A_REVERSE, A_REVERSE },
	[R_DIM]     = { -1, -1, A_DIM, A_DIM },
	[R_HEAD]    = { COLOR_YELLOW, -1, A_BOLD, A_BOLD },
	[R_LINK]    = { COLOR_CYAN, -1, 0, 0 },
	[R_ERROR]   = { COLOR_RED, -1, A_BOLD, A_BOLD },
	[R_MATCH]   = { COLOR_BLACK, COLOR_YELLOW, 0, A_BOLD | A_UNDERLINE },
	[R_SELECT]  = { COLOR_BLACK, COLOR_CYAN, 0, A_UNDERLINE },
	[R_PRESENT] = { COLOR_GREEN, -1, 0, 0 },
	[R_PARENT]  = { COLOR_CYAN, -1, 0, 0 },
	[R_FILE]    = { COLOR_MAGENTA, -1, 0, A_DIM },
	[R_ABSENT]  = { -1, -1, A_DIM, A_DIM },
	[R_LAZY]    = { COLOR_YELLOW, -1, 0, A_DIM },
	[R_MISSING] = { COLOR_RED, -1, A_BOLD, A_BOLD },
	[R_ADDED]   = { COLOR_GREEN, -1, A_BOLD, A_BOLD },
	[R_REMOVED] = { COLOR_RED, -1, A_BOLD, A_BOLD },
	[R_CHANGED] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD },
};

int role_attr(struct tui *t, int role)
{
	return role >= 0 && role < R__COUNT ? t->s.attr[role] : 0;
}

static void setup_colors(struct tui *t)
{
	const char *nc = getenv("NO_COLOR");
	int defaults;

	t->s.color = has_colors() && !(nc && *nc);
	if (t->s.color && start_color() == ERR)
		t->s.color = 0;
	defaults = t->s.color && use_default_colors() == OK;
	for (int r = 0; r < R__COUNT; r++) {
		short fg = roles[r].fg, bg = roles[r].bg;

		if (!t->s.color || (fg < 0 && bg < 0) || r >= COLOR_PAIRS - 1) {
			t->s.attr[r] = t->s.color ? roles[r].attr : roles[r].mono;
			continue;
		}
		/* without default colours, -1 is not allowed: white on black stands in */
		if (!defaults) {
			fg = fg < 0 ? COLOR_WHITE : fg;
			bg = bg < 0 ? COLOR_BLACK : bg;
		}
		init_pair((short)(r + 1), fg, bg);
		t->s.attr[r] = (int)COLOR_PAIR(r + 1) | roles[r].attr;
	}
}

int screen_open(struct tui *t, char *msg, size_t len)
{
	const char *term = getenv("TERM");
	SCREEN *sc;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(msg, len, "the TUI needs a terminal on stdin and stdout (use -j with the other commands for scripts)");
		return -1;
	}
	setlocale(LC_ALL, "");
	sc = newterm(NULL, stdout, stdin);
	if (!sc) {
		snprintf(msg, len, "cannot use the terminal '%s': it has no terminfo entry curses can use",
			 term ? term : "");
		return -1;
	}
	/* a terminal that cannot move the cursor (TERM=dumb, a printer) cannot show panes */
	if (!cursor_address && !(cursor_up && cursor_down)) {
		endwin();
		delscreen(sc);
		snprintf(msg, len, "the terminal '%s' cannot move the cursor: the TUI needs one that can "
			 "(the other commands print text for it)", term ? term : "");
		return -1;
	}
	t->s.term = sc;
	t->s.ok = 1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	/* presses only, reported at once: curses' click resolution would hold each click back */
	mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
	mouseinterval(0);
	setup_colors(t);
	return 0;
}

void screen_close(struct tui *t)
{
	if (!t->s.ok)
		return;
	curs_set(1);
	endwin();
	delscreen(t->s.term);
	t->s.ok = 0;
	t->s.term = NULL;
}

void put_fill(int y, int x, int w, int attr)
{
	if (w <= 0)
		return;
	attrset(attr);
	mvhline(y, x, ' ', w);
	attrset(0);
}

/* Put n bytes of UTF-8 at (y, x) in at most w columns; control bytes and invalid sequences show as '?'. */
int put_text(int y, int x, int w, const char *s, size_t n, int attr)
{
	int used = 0, utf8 = MB_CUR_MAX > 1;
	mbstate_t st;
	size_t i = 0;

	if (w <= 0)
		return 0;
	memset(&st, 0, sizeof(st));
	attrset(attr);
	move(y, x);
	while (i < n && used < w) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f) {
			addch(ch);
			used++;
			i++;
			continue;
		}
		if (ch >= 0x80 && utf8) {
			wchar_t wc;
			size_t k = mbrtowc(&wc, s + i, n - i, &st);
			int cw;

			if (k != (size_t)-1 && k != (size_t)-2 && k > 0 && (cw = wcwidth(wc)) > 0) {
				if (used + cw > w)
					break;
				addnstr(s + i, (int)k);
				used += cw;
				i += k;
				continue;
			}
			memset(&st, 0, sizeof(st));
		}
		addch(ch == '\t' ? ' ' : '?');
		used++;
		i++;
	}
	attrset(0);
	return used;
}

void tui_msg(struct tui *t, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	t->msg_err = err;
}

static void draw_small(struct tui *t)
{
	char line[160];
	int y = LINES / 2 - 1;

	(void)t;
	erase();
	snprintf(line, sizeof(line), "terminal too small: %dx%d", COLS, LINES);
	put_text(y < 0 ? 0 : y, 0, COLS, line, strlen(line), A_BOLD);
	snprintf(line, sizeof(line), "cr-inspect tui needs %dx%d", TUI_MIN_COLS, TUI_MIN_ROWS);
	put_text(y + 1, 0, COLS, line, strlen(line), 0);
	snprintf(line, sizeof(line), "enlarge it, or press q to quit");
	put_text(y + 2, 0, COLS, line, strlen(line), 0);
	refresh();
}

/* The key hints of the bottom line, as many as fit, whole. */
static const char *const hints[] = {
	"?:help", "q:quit", "Tab:pane", "Enter:follow", "Bksp:back", "/:search", "g:goto", "m:mark", "e:export",
};

static void draw_bottom(struct tui *t, struct view *v)
{
	struct img_buf b;
	int y = LINES - 2;

	img_buf_init(&b);
	if (t->focus == 0 || !v) {
		struct node *n = tree_cur(t);

		if (n)
			tree_path(t, n, &b);
	} else if (v->ops->status) {
		v->ops->status(t, v, &b);
	}
	put_fill(y, 0, COLS, role_attr(t, R_STATUS));
	put_text(y, 1, COLS - 1, (const char *)b.data, b.len, role_attr(t, R_STATUS));
	img_buf_free(&b);
	put_fill(y + 1, 0, COLS, 0);
	if (t->msg[0])
		put_text(y + 1, 0, COLS, t->msg, strlen(t->msg), role_attr(t, t->msg_err ? R_ERROR : R_NORMAL));
	else
		for (size_t i = 0, x = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
			size_t n = strlen(hints[i]);

			if (x + n > (size_t)COLS)
				break;
			put_text(y + 1, (int)x, COLS - (int)x, hints[i], n, role_attr(t, R_DIM));
			x += n + 1;
		}
}

void screen_draw(struct tui *t)
{
	struct view *v = tui_view(t);
	char title[320];
	int body = LINES - 3, tw;

	t->s.cols = COLS;
	t->s.rows = LINES;
	if (COLS < TUI_MIN_COLS || LINES < TUI_MIN_ROWS) {
		draw_small(t);
		return;
	}
	erase();
	snprintf(title, sizeof(title), " cr-inspect tui  %s%s%s", t->name, t->ck2 ? "  vs  " : "",
		 t->ck2 ? t->name2 : "");
	put_fill(0, 0, COLS, role_attr(t, R_TITLE));
	put_text(0, 0, COLS, title, strlen(title), role_attr(t, R_TITLE));
	/* the tree takes about a third; a view that needs more room hides it unless it has the focus */
	tw = COLS * 3 / 10;
	tw = tw < 24 ? 24 : tw > 44 ? 44 : tw;
	t->tree_shown = !v || t->focus == 0 || COLS - tw - 1 >= v->ops->min_w;
	if (t->tree_shown) {
		t->tree_r = (struct rect){ 1, 0, body, tw };
		t->view_r = (struct rect){ 1, tw + 1, body, COLS - tw - 1 };
		attrset(role_attr(t, R_DIM));
		mvvline(1, tw, ACS_VLINE, body);
		attrset(0);
		tree_draw(t, t->tree_r, t->focus == 0);
	} else {
		t->tree_r = (struct rect){ 0, 0, 0, 0 };
		t->view_r = (struct rect){ 1, 0, body, COLS };
	}
	if (v)
		v->ops->draw(t, v, t->view_r, t->focus == 1);
	draw_bottom(t, v);
	refresh();
}

/* One line editor on the bottom row.  Tab cycles the search kind when kind is given. */
int prompt(struct tui *t, const char *label, char *buf, size_t len, int *kind)
{
	size_t n = strlen(buf);
	int done = 0, ok = 0;

	curs_set(1);
	while (!done) {
		char lab[128];
		int y = LINES - 1, lw;

		if (COLS < TUI_MIN_COLS || LINES < TUI_MIN_ROWS) {
			draw_small(t);
		} else {
			if (kind)
				snprintf(lab, sizeof(lab), "%s (%s, Tab: kind): ", label, pattern_kind_name(*kind));
			else
				snprintf(lab, sizeof(lab), "%s: ", label);
			put_fill(y, 0, COLS, 0);
			lw = put_text(y, 0, COLS, lab, strlen(lab), A_BOLD);
			/* show the end of the text when it is longer than the room */
			{
				int room = COLS - lw - 1;
				size_t from = n > (size_t)room && room > 0 ? n - (size_t)room : 0;

				put_text(y, lw, COLS - lw, buf + from, n - from, 0);
				move(y, lw + (int)(n - from < (size_t)room ? n - from : (size_t)room));
			}
			refresh();
		}
		double w0 = tui_now_ms();
		int ch = getch();

		/* the time spent waiting for typing is the user's, not the key's */
		t->waited_ms += tui_now_ms() - w0;
		switch (ch) {
		case ERR:
			if (t->quit)
				done = 1;
			break;
		case 27:
		case 7: /* ^G */
			done = 1;
			break;
		case '\n':
		case '\r':
		case KEY_ENTER:
			done = ok = 1;
			break;
		case KEY_BACKSPACE:
		case 127:
		case 8:
			if (n)
				buf[--n] = 0;
			else
				done = 1;
			break;
		case 21: /* ^U */
			n = 0;
			buf[0] = 0;
			break;
		case '\t':
			if (kind)
				*kind = (*kind + 1) % PAT__COUNT;
			break;
		case KEY_RESIZE:
			screen_draw(t);
			break;
		default:
			if (ch >= 0x20 && ch < 0x100 && ch != 0x7f && n + 1 < len) {
				buf[n++] = (char)ch;
				buf[n] = 0;
			}
		}
	}
	curs_set(0);
	return ok;
}
