/* The local coder's two hot loops, compiled: an optional accelerator (attunement.coding.fastpath).
 *
 * 1. Featurizer.featurize: one sentence's feature ids, as features.sentence_features followed by
 *    LinearModel.fast_vectorise give them (the same ids in the same order, the same counts). It
 *    works on a byte form of the sentence: ASCII as it is, any other character as a byte of
 *    flags (whitespace, word character, closer, emoji, bullet, right quote: what the rules ask
 *    of it). For the few characters that form cannot stand for (a decimal digit that is not
 *    ASCII, U+0130, U+212A) it returns None and the caller takes the Python path.
 * 2. RunonScorer.cuts: the gaps the run-on splitter cuts in one stretch, as runon.Splitter.scores
 *    and the greedy decoding of Splitter.cuts find them (the same float sums in the same order,
 *    so the same cuts); None (the Python path) for a word that cannot be encoded.
 *
 * So the outputs never depend on whether this module was built. tests/test_native.py checks
 * both against their Python reference on every labelled text of the project and on random
 * strings made of what the rules look at. Tables come from Python (fastpath builds them once per
 * model); this file holds rules, not data: no lexicon, no feature names, no weights.
 *
 * The featurizer hand-codes the regular expressions of features.py:
 *
 *   _LIST_MARKER  ^\s*(?:[-*+\u2022\u25e6\u25aa\u2023\u2013\u2014]|\d{1,3}[.)]|[a-hA-H][.)]
 *                 |\[[ xX]\])\s+
 *   _NUM_MARKER   the same with the digits alternative (then one \s)
 *   _HEADING      ^\s*(?:#{1,6}\s|\*\*[^*]+\*\*:?\s*$|__[^_]+__:?\s*$)
 *   _MARKUP       [*_`#>]+ -> " "
 *   _TOKEN        [a-z0-9]+(?:'[a-z]+)?|[?!]
 *   _CLAUSE_START (?:[,;]|\b(?:then|and))\s+([a-z']+)
 *
 *   _TRAIL, _EMOJI the closer and emoji ranges, as character flags
 *
 * where \s is Python's (\t\n\v\f\r, \x1c-\x1f, space, and any character str.isspace calls
 * whitespace) and a word character is [A-Za-z0-9_] or any character str.isalnum accepts.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------ character classes */

/* The featurizer works on bytes: an ASCII character is itself, any other stands as 0x80 | the
 * flags of what the rules ask of it (char_flags). */
enum { U_SPACE = 1, U_WORD = 2, U_TRAIL = 4, U_EMOJI = 8, U_BULLET = 16, U_RSQUO = 32 };
#define HAS(c, flag) ((c) >= 0x80 && ((c) & (flag)))

/* Python's \s, plus the flag byte of any other whitespace */
static int is_space(unsigned char c) {
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f) || HAS(c, U_SPACE);
}
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static int is_token_char(unsigned char c) { return is_lower(c) || is_digit(c); }
/* Python's \w: [A-Za-z0-9_] and any other letter or number */
static int is_word_char(unsigned char c) {
    return is_digit(c) || is_lower(c) || (c >= 'A' && c <= 'Z') || c == '_' || HAS(c, U_WORD);
}
static int is_markup(unsigned char c) {
    return c == '*' || c == '_' || c == '`' || c == '#' || c == '>';
}
/* _TRAIL_ASCII = " \t\"')]*_", stripped from an ASCII body */
static int is_trail_ascii(unsigned char c) {
    return c == ' ' || c == '\t' || c == '"' || c == '\'' || c == ')' || c == ']' || c == '*' ||
           c == '_';
}
/* _TRAIL's class, stripped from any other body: \s, "')]*_, closing quotes, emoji, joiners */
static int is_trail(unsigned char c) {
    return is_space(c) || c == '"' || c == '\'' || c == ')' || c == ']' || c == '*' ||
           c == '_' || HAS(c, U_TRAIL);
}
/* _MARKER_STARTS: "-*+\u2022\u25e6\u25aa\u2023\u2013\u20140123456789abcdefghABCDEFGH[ \t" */
static int is_marker_start(unsigned char c) {
    return c == '-' || c == '*' || c == '+' || is_digit(c) || (c >= 'a' && c <= 'h') ||
           (c >= 'A' && c <= 'H') || c == '[' || c == ' ' || c == '\t' || HAS(c, U_BULLET);
}

/* The flags of a character that is not ASCII, or -1 for one the byte form cannot stand for:
 * a decimal digit (\d would match it) and the two whose lowercase is ASCII or two characters
 * (U+0130, U+212A; tests/test_native.py checks that no other character changes its flags when
 * lowercased, over all of Unicode). */
static int char_flags(Py_UCS4 ch) {
    if (ch == 0x130 || ch == 0x212A || Py_UNICODE_ISDECIMAL(ch)) return -1;
    int f = 0;
    if (Py_UNICODE_ISSPACE(ch)) f |= U_SPACE;
    if (Py_UNICODE_ISALNUM(ch)) f |= U_WORD;
    if ((ch >= 0x1F300 && ch <= 0x1FAFF) || (ch >= 0x2600 && ch <= 0x27BF)) f |= U_EMOJI | U_TRAIL;
    if (ch == 0x201D || ch == 0x2019 || ch == 0xFE0F || ch == 0x200D) f |= U_TRAIL;
    if (ch == 0x2019) f |= U_RSQUO; /* the body's right single quotes become apostrophes */
    if (ch == 0x2022 || ch == 0x25E6 || ch == 0x25AA || ch == 0x2023 || ch == 0x2013 ||
        ch == 0x2014)
        f |= U_BULLET;
    return f;
}

/* ------------------------------------------------------------------ string -> row tables */

/* Keys are UTF-8 bytes; each row holds values of three kinds: Python int objects (ids, appended
 * to the caller's lists as they are; NULL stands for the id 0), integers (bit sets) and doubles
 * (weights). Open addressing with linear probing over row numbers, the keys back to back in one
 * buffer: a table costs little more than its keys and values. */
typedef struct {
    uint32_t *slots;    /* row + 1, or 0 for an empty slot */
    size_t mask;
    char *keys;         /* the keys, back to back */
    Py_ssize_t *starts; /* row -> offset of its key; starts[rows] is the end */
    uint64_t *hashes;
    Py_ssize_t rows, max_len;
    int n_obj, n_int, n_dbl; /* values per row of each kind */
    PyObject **obj;
    int64_t *ints;
    double *dbl;
} Table;

static uint64_t hash_bytes(const char *s, Py_ssize_t n) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (Py_ssize_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* The row of a key, or -1. */
static Py_ssize_t table_row(const Table *t, const char *s, Py_ssize_t n) {
    if (t->slots == NULL || n > t->max_len) return -1;
    uint64_t h = hash_bytes(s, n);
    for (size_t i = (size_t)h & t->mask;; i = (i + 1) & t->mask) {
        uint32_t r = t->slots[i];
        if (r == 0) return -1;
        r--;
        if (t->hashes[r] == h && t->starts[r + 1] - t->starts[r] == n &&
            memcmp(t->keys + t->starts[r], s, (size_t)n) == 0)
            return (Py_ssize_t)r;
    }
}

/* value k of a kind of row r (r may be -1, a missing key: NULL / 0) */
static PyObject *row_obj(const Table *t, Py_ssize_t r, int k) {
    return r < 0 ? NULL : t->obj[r * t->n_obj + k];
}
static int64_t row_int(const Table *t, Py_ssize_t r, int k) {
    return r < 0 ? 0 : t->ints[r * t->n_int + k];
}

static const double NO_WEIGHTS[4] = {0.0, 0.0, 0.0, 0.0};

/* The doubles of a key's row, or zeros for a key the table lacks. */
static const double *table_weights(const Table *t, const char *s, Py_ssize_t n) {
    Py_ssize_t r = table_row(t, s, n);
    return r < 0 ? NO_WEIGHTS : t->dbl + r * t->n_dbl;
}

static void table_free(Table *t) {
    if (t->obj != NULL)
        for (Py_ssize_t i = 0; i < t->rows * t->n_obj; i++) Py_XDECREF(t->obj[i]);
    PyMem_Free(t->slots);
    PyMem_Free(t->keys);
    PyMem_Free(t->starts);
    PyMem_Free(t->hashes);
    PyMem_Free(t->obj);
    PyMem_Free(t->ints);
    PyMem_Free(t->dbl);
    memset(t, 0, sizeof *t);
}

/* The UTF-8 form of a key the table takes, or NULL: with ascii_only a key that is not ASCII
 * (no ASCII sentence can produce it); in any table a key with no UTF-8 form (a lone
 * surrogate), which the callers refuse anyway. */
static const char *key_bytes(PyObject *key, int ascii_only, Py_ssize_t *n) {
    if (ascii_only && !PyUnicode_IS_ASCII(key)) return NULL;
    const char *s = PyUnicode_AsUTF8AndSize(key, n);
    if (s == NULL) PyErr_Clear();
    return s;
}

/* A dict value into row r: one number where a row holds one value, else a sequence of the
 * row's objects, then integers, then doubles. */
static int store_values(Table *t, Py_ssize_t r, PyObject *value, const char *what) {
    int width = t->n_obj + t->n_int + t->n_dbl;
    PyObject *fast = NULL, *const *items = &value;
    if (width > 1) {
        fast = PySequence_Fast(value, what);
        if (fast == NULL) return -1;
        if (PySequence_Fast_GET_SIZE(fast) != width) {
            Py_DECREF(fast);
            PyErr_Format(PyExc_ValueError, "%s: each value must hold %d numbers", what, width);
            return -1;
        }
        items = PySequence_Fast_ITEMS(fast);
    }
    int k = 0;
    for (int j = 0; j < t->n_obj; j++, k++) {
        if (!PyLong_Check(items[k])) {
            Py_XDECREF(fast);
            PyErr_Format(PyExc_TypeError, "%s: ids must be int", what);
            return -1;
        }
        if (PyLong_AsLong(items[k]) != 0) {
            Py_INCREF(items[k]);
            t->obj[r * t->n_obj + j] = items[k];
        }
    }
    for (int j = 0; j < t->n_int; j++, k++) t->ints[r * t->n_int + j] = PyLong_AsLongLong(items[k]);
    for (int j = 0; j < t->n_dbl; j++, k++) t->dbl[r * t->n_dbl + j] = PyFloat_AsDouble(items[k]);
    Py_XDECREF(fast);
    return PyErr_Occurred() ? -1 : 0;
}

/* Build from a dict {str: values} (see store_values); -1 with an exception set. */
static int table_build(Table *t, PyObject *dict, const char *what, int ascii_only, int n_obj,
                       int n_int, int n_dbl) {
    if (!PyDict_Check(dict)) {
        PyErr_Format(PyExc_TypeError, "%s must be a dict", what);
        return -1;
    }
    t->n_obj = n_obj;
    t->n_int = n_int;
    t->n_dbl = n_dbl;
    Py_ssize_t pos = 0, rows = 0, bytes = 0, n;
    PyObject *key, *value;
    while (PyDict_Next(dict, &pos, &key, &value)) { /* how many rows and key bytes */
        if (!PyUnicode_Check(key)) {
            PyErr_Format(PyExc_TypeError, "%s: keys must be str", what);
            return -1;
        }
        if (key_bytes(key, ascii_only, &n) == NULL) continue;
        rows++;
        bytes += n;
    }
    if (rows >= (Py_ssize_t)(UINT32_MAX / 4)) {
        PyErr_Format(PyExc_OverflowError, "%s: too many keys", what);
        return -1;
    }
    size_t size = 16;
    while (size < 2 * (size_t)rows + 2) size <<= 1;
    t->slots = PyMem_Calloc(size, sizeof(uint32_t));
    t->mask = size - 1;
    t->keys = PyMem_Malloc((size_t)bytes + 1);
    t->starts = PyMem_Calloc((size_t)rows + 1, sizeof(Py_ssize_t));
    t->hashes = PyMem_Calloc((size_t)rows + 1, sizeof(uint64_t));
    t->obj = PyMem_Calloc((size_t)(rows * n_obj) + 1, sizeof(PyObject *));
    t->ints = PyMem_Calloc((size_t)(rows * n_int) + 1, sizeof(int64_t));
    t->dbl = PyMem_Calloc((size_t)(rows * n_dbl) + 1, sizeof(double));
    if (!t->slots || !t->keys || !t->starts || !t->hashes || !t->obj || !t->ints || !t->dbl) {
        PyErr_NoMemory();
        return -1;
    }
    t->rows = rows;
    pos = 0;
    Py_ssize_t r = 0, at = 0;
    while (r < rows && PyDict_Next(dict, &pos, &key, &value)) { /* keys, slots and values */
        const char *s = key_bytes(key, ascii_only, &n);
        if (s == NULL) continue;
        memcpy(t->keys + at, s, (size_t)n);
        at += n;
        t->starts[r + 1] = at;
        uint64_t h = t->hashes[r] = hash_bytes(s, n);
        size_t i = (size_t)h & t->mask;
        while (t->slots[i] != 0) i = (i + 1) & t->mask; /* dict keys are distinct */
        t->slots[i] = (uint32_t)(r + 1);
        if (n > t->max_len) t->max_len = n;
        if (store_values(t, r, value, what) < 0) return -1;
        r++;
    }
    return 0;
}

enum { V_UNI, V_ROW, V_FIRST };  /* the words table's objects: ids */
enum { V_BITS, V_CUE, V_MODAL }; /* and its integers: bit sets */

/* ------------------------------------------------------------------ design features */

/* The fixed design features, in the order fastpath.FIXED_FEATURES names them. */
enum {
    F_NUM, F_BULLET, F_HEADING, F_BOLD, F_Q, F_COLON, F_EXCL, F_EMOJI, F_WH0, F_AUX0, F_AUX_YOU,
    F_IMP0, F_IMP_LEAD, F_IMP_CLAUSE, F_I0, F_YOU0, F_FEEL, F_YOU_FEEL, F_I_FEEL, F_SOUNDS_FEEL,
    F_YOU, F_I, F_FIRST, F_LAST, F_ONLY, F_AFTER_HEADING, F_LEN1, F_LEN2, F_LEN3, F_LEN4, N_FIXED
};

/* word classes (bits of V_BITS), as fastpath.WORD_CLASSES orders them */
enum {
    C_FEEL = 1, C_SECOND = 2, C_FIRST = 4, C_WH = 8, C_AUX = 16, C_BASE = 32, C_LEAD = 64,
    C_PRON = 128, C_SOUNDS = 256
};

#define MAX_BITS 32

/* A design feature as the caller's id object and, when the feature is one of the conjoined
 * ones (_CONJOIN), the id object of its "&disc" twin; disc NULL when it is not conjoined. */
typedef struct {
    PyObject *id;
    PyObject *disc;
} Design;

typedef struct {
    PyObject_HEAD
    Table words;   /* token -> (unigram, word row, first word) ids and lexicon bits */
    Table pairs;   /* "w0 w1" -> first-two-words id */
    Table phrases; /* "a b c" -> cue bits of the multi-word cue phrase */
    Table starts;  /* "a b" -> bit set of the lengths of the phrases starting so */
    Design fixed[N_FIXED];
    int n_modal, n_cue;
    Design modal[MAX_BITS];
    Design cue[MAX_BITS], cue_q[MAX_BITS];
    PyObject *oov; /* word -> (char n-gram ids, n-gram count), for words without a row */
    /* scratch, reused across calls */
    char *text, *low, *key; /* the sentence's byte form, its lowered body, a lookup key */
    Py_ssize_t *tok_a, *tok_b;
    Py_ssize_t *tok_r; /* each token's row in the words table, or -1 */
    Py_ssize_t *word_tok; /* each word's token (the words are the tokens but "?" and "!") */
    Py_ssize_t cap;
    Design *design;
    Py_ssize_t design_cap;
    int busy; /* a call is running (it may be in the oov callback, which can let threads run) */
    int ready; /* __init__ went through (a failed one leaves the object unusable) */
} Featurizer;

static void design_clear(Design *d) {
    Py_CLEAR(d->id);
    Py_CLEAR(d->disc);
}

static void featurizer_dealloc(Featurizer *self) {
    table_free(&self->words);
    table_free(&self->pairs);
    table_free(&self->phrases);
    table_free(&self->starts);
    for (int i = 0; i < N_FIXED; i++) design_clear(&self->fixed[i]);
    for (int i = 0; i < MAX_BITS; i++) {
        design_clear(&self->modal[i]);
        design_clear(&self->cue[i]);
        design_clear(&self->cue_q[i]);
    }
    Py_CLEAR(self->oov);
    PyMem_Free(self->text);
    PyMem_Free(self->low);
    PyMem_Free(self->key);
    PyMem_Free(self->tok_a);
    PyMem_Free(self->tok_b);
    PyMem_Free(self->tok_r);
    PyMem_Free(self->word_tok);
    PyMem_Free(self->design);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A sequence of (id, disc id or None) pairs into Designs; returns the count or -1. */
static int read_designs(PyObject *seq, Design *out, int max, const char *what) {
    PyObject *fast = PySequence_Fast(seq, what);
    if (fast == NULL) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n > max) {
        Py_DECREF(fast);
        PyErr_Format(PyExc_ValueError, "%s: at most %d entries", what, max);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2 ||
            !PyLong_Check(PyTuple_GET_ITEM(item, 0))) {
            Py_DECREF(fast);
            PyErr_Format(PyExc_TypeError, "%s: entries must be (id, disc id or None)", what);
            return -1;
        }
        PyObject *id = PyTuple_GET_ITEM(item, 0), *disc = PyTuple_GET_ITEM(item, 1);
        Py_INCREF(id);
        out[i].id = id;
        if (disc != Py_None) {
            Py_INCREF(disc);
            out[i].disc = disc;
        }
    }
    Py_DECREF(fast);
    return (int)n;
}

static int featurizer_init(Featurizer *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"words", "pairs", "phrases", "phrase_starts", "fixed",
                             "modals", "cues", "cues_q", "oov", NULL};
    PyObject *words, *pairs, *phrases, *starts, *fixed, *modals, *cues, *cues_q, *oov;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOOOOOO", kwlist, &words, &pairs, &phrases,
                                     &starts, &fixed, &modals, &cues, &cues_q, &oov))
        return -1;
    if (self->words.slots != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Featurizer is already initialised");
        return -1;
    }
    if (!PyCallable_Check(oov)) {
        PyErr_SetString(PyExc_TypeError, "oov must be callable");
        return -1;
    }
    if (table_build(&self->words, words, "words", 1, 3, 3, 0) < 0 ||
        table_build(&self->pairs, pairs, "pairs", 1, 1, 0, 0) < 0 ||
        table_build(&self->phrases, phrases, "phrases", 1, 0, 1, 0) < 0 ||
        table_build(&self->starts, starts, "phrase_starts", 1, 0, 1, 0) < 0)
        return -1;
    int n_fixed = read_designs(fixed, self->fixed, N_FIXED, "fixed");
    if (n_fixed < 0) return -1;
    if (n_fixed != N_FIXED) {
        PyErr_Format(PyExc_ValueError, "fixed: expected %d features", N_FIXED);
        return -1;
    }
    self->n_modal = read_designs(modals, self->modal, MAX_BITS, "modals");
    if (self->n_modal < 0) return -1;
    self->n_cue = read_designs(cues, self->cue, MAX_BITS, "cues");
    if (self->n_cue < 0) return -1;
    if (read_designs(cues_q, self->cue_q, MAX_BITS, "cues_q") != self->n_cue) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "cues_q: one per cue");
        return -1;
    }
    Py_INCREF(oov);
    self->oov = oov;
    self->ready = 1;
    return 0;
}

/* Grow the scratch buffers to hold a sentence of n characters. */
static int reserve(Featurizer *self, Py_ssize_t n) {
    if (n < self->cap) return 0;
    Py_ssize_t cap = 64;
    while (cap <= n) cap *= 2;
    char *text = PyMem_Realloc(self->text, (size_t)cap + 1);
    if (text) self->text = text;
    char *low = PyMem_Realloc(self->low, (size_t)cap + 1);
    if (low) self->low = low;
    char *key = PyMem_Realloc(self->key, 2 * (size_t)cap + 2);
    if (key) self->key = key;
    Py_ssize_t *a = PyMem_Realloc(self->tok_a, (size_t)cap * sizeof(Py_ssize_t));
    if (a) self->tok_a = a;
    Py_ssize_t *b = PyMem_Realloc(self->tok_b, (size_t)cap * sizeof(Py_ssize_t));
    if (b) self->tok_b = b;
    Py_ssize_t *e = PyMem_Realloc(self->tok_r, (size_t)cap * sizeof(Py_ssize_t));
    if (e) self->tok_r = e;
    Py_ssize_t *w = PyMem_Realloc(self->word_tok, (size_t)cap * sizeof(Py_ssize_t));
    if (w) self->word_tok = w;
    if (!text || !low || !key || !a || !b || !e || !w) {
        PyErr_NoMemory();
        return -1;
    }
    self->cap = cap;
    return 0;
}

/* _LIST_MARKER at the start: the end of the match (after its whitespace) or -1; *num says
 * whether it was the digits alternative (then _NUM_MARKER matches too). */
static Py_ssize_t list_marker(const char *s, Py_ssize_t n, int *num) {
    Py_ssize_t i = 0, j = -1;
    *num = 0;
    while (i < n && is_space((unsigned char)s[i])) i++;
    if (i >= n) return -1;
    unsigned char c = (unsigned char)s[i];
    if (c == '-' || c == '*' || c == '+' || HAS(c, U_BULLET)) {
        j = i + 1;
    } else if (is_digit(c)) {
        Py_ssize_t k = i;
        while (k < n && is_digit((unsigned char)s[k])) k++;
        if (k - i <= 3 && k < n && (s[k] == '.' || s[k] == ')')) {
            j = k + 1;
            *num = 1;
        }
    } else if ((c >= 'a' && c <= 'h') || (c >= 'A' && c <= 'H')) {
        if (i + 1 < n && (s[i + 1] == '.' || s[i + 1] == ')')) j = i + 2;
    } else if (c == '[') {
        if (i + 2 < n && (s[i + 1] == ' ' || s[i + 1] == 'x' || s[i + 1] == 'X') &&
            s[i + 2] == ']')
            j = i + 3;
    }
    if (j < 0 || j >= n || !is_space((unsigned char)s[j])) {
        *num = 0;
        return -1;
    }
    while (j < n && is_space((unsigned char)s[j])) j++;
    return j;
}

/* _HEADING of features.py, for a text whose first character is '#', '*' or '_'. */
static int heading(const char *s, Py_ssize_t n) {
    unsigned char c = (unsigned char)s[0];
    if (c == '#') {
        Py_ssize_t k = 0;
        while (k < n && s[k] == '#') k++;
        return k <= 6 && k < n && is_space((unsigned char)s[k]);
    }
    if (n < 2 || s[1] != (char)c) return 0;
    Py_ssize_t p = 2;
    while (p < n && s[p] != (char)c) p++;
    if (p == 2 || p + 1 >= n || s[p + 1] != (char)c) return 0;
    Py_ssize_t q = p + 2;
    if (q < n && s[q] == ':') q++;
    for (; q < n; q++)
        if (!is_space((unsigned char)s[q])) return 0;
    return 1;
}

/* Does _CLAUSE_START find, scanning as re.findall does, a clause whose first word is a base
 * verb? */
static int clause_base(Featurizer *self, const char *s, Py_ssize_t n) {
    Py_ssize_t pos = 0;
    while (pos < n) {
        unsigned char c = (unsigned char)s[pos];
        Py_ssize_t j = -1;
        if (c == ',' || c == ';') {
            j = pos + 1;
        } else if ((c == 't' || c == 'a') &&
                   (pos == 0 || !is_word_char((unsigned char)s[pos - 1]))) {
            if (n - pos >= 4 && memcmp(s + pos, "then", 4) == 0)
                j = pos + 4;
            else if (n - pos >= 3 && memcmp(s + pos, "and", 3) == 0)
                j = pos + 3;
        }
        if (j >= 0 && j < n && is_space((unsigned char)s[j])) {
            while (j < n && is_space((unsigned char)s[j])) j++;
            Py_ssize_t w = j;
            while (j < n && (is_lower((unsigned char)s[j]) || s[j] == '\'')) j++;
            if (j > w) {
                if (row_int(&self->words, table_row(&self->words, s + w, j - w), V_BITS) & C_BASE)
                    return 1;
                pos = j;
                continue;
            }
        }
        pos++;
    }
    return 0;
}

static int contains(const char *s, Py_ssize_t n, const char *needle) {
    Py_ssize_t m = (Py_ssize_t)strlen(needle);
    for (Py_ssize_t i = 0; i + m <= n; i++)
        if (memcmp(s + i, needle, (size_t)m) == 0) return 1;
    return 0;
}

static int append_obj(PyObject *list, PyObject *obj, PyObject *zero) {
    return PyList_Append(list, obj != NULL ? obj : zero);
}

static PyObject *ZERO; /* the int 0 */

/* Join words [i, i + count) (self->word_tok, tokens from ta to tb in low) with single spaces
 * into self->key; returns the length. */
static Py_ssize_t join_words(Featurizer *self, const char *low, const Py_ssize_t *ta,
                             const Py_ssize_t *tb, Py_ssize_t i, Py_ssize_t count) {
    Py_ssize_t k = 0;
    for (Py_ssize_t w = i; w < i + count; w++) {
        Py_ssize_t t = self->word_tok[w];
        if (w > i) self->key[k++] = ' ';
        memcpy(self->key + k, low + ta[t], (size_t)(tb[t] - ta[t]));
        k += tb[t] - ta[t];
    }
    return k;
}

#define ADD(d)                                                                               \
    do {                                                                                     \
        design[nd++] = (d);                                                                  \
    } while (0)

PyDoc_STRVAR(featurize_doc,
"featurize(text, position, n_sentences, after_heading, context, ids, rows)\n\n"
"Append one sentence's feature ids to ids and its word rows to rows, exactly as\n"
"LinearModel.fast_vectorise(sentence_features(...)) does; context is a tuple of\n"
"(id, disc id or None) pairs for the context flags and whether the user disclosed a\n"
"feeling, as (pairs, disclosed). Returns (n_word, n_char, n_unknown, n_design, n_words,\n"
"n_tokens), or None, appending nothing, for a character it hands back to Python (a decimal\n"
"digit that is not ASCII, U+0130, U+212A) or while another call runs.");

static PyObject *featurize_scratch(Featurizer *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "featurize takes 7 arguments");
        return NULL;
    }
    PyObject *text = args[0], *ctx = args[4], *ids = args[5], *rows = args[6];
    if (!PyUnicode_Check(text) || !PyList_Check(ids) || !PyList_Check(rows) ||
        !PyTuple_Check(ctx) || PyTuple_GET_SIZE(ctx) != 2 ||
        !PyTuple_Check(PyTuple_GET_ITEM(ctx, 0))) {
        PyErr_SetString(PyExc_TypeError,
                        "featurize(str, int, int, bool, (pairs, bool), list, list)");
        return NULL;
    }
    if (!self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "Featurizer is not initialised");
        return NULL;
    }
    Py_ssize_t position = PyLong_AsSsize_t(args[1]);
    Py_ssize_t n_sentences = PyLong_AsSsize_t(args[2]);
    int after_heading = PyObject_IsTrue(args[3]);
    int ctx_disc = PyObject_IsTrue(PyTuple_GET_ITEM(ctx, 1));
    if (PyErr_Occurred() || after_heading < 0 || ctx_disc < 0) return NULL;
    PyObject *ctx_pairs = PyTuple_GET_ITEM(ctx, 0);
    Py_ssize_t n_ctx = PyTuple_GET_SIZE(ctx_pairs);

    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (reserve(self, n) < 0) return NULL;
    const char *s = (const char *)PyUnicode_DATA(text);
    int emoji = 0;
    if (!PyUnicode_IS_ASCII(text)) { /* the byte form: flags for the other characters */
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 ch = PyUnicode_READ(kind, data, i);
            int f = ch < 0x80 ? 0 : char_flags(ch);
            if (f < 0) Py_RETURN_NONE;
            self->text[i] = ch < 0x80 ? (char)ch : (char)(0x80 | f);
            emoji |= f & U_EMOJI;
        }
        s = self->text;
    }
    /* design: context flags, at most ~90 of ours, then as many "&disc" twins */
    Py_ssize_t need = 2 * (n_ctx + N_FIXED + 2 * MAX_BITS + MAX_BITS) + 8;
    if (need > self->design_cap) {
        Design *d = PyMem_Realloc(self->design, (size_t)need * sizeof(Design));
        if (d == NULL) return PyErr_NoMemory();
        self->design = d;
        self->design_cap = need;
    }
    Design *design = self->design;
    Py_ssize_t nd = 0;
    for (Py_ssize_t i = 0; i < n_ctx; i++) {
        PyObject *pair = PyTuple_GET_ITEM(ctx_pairs, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "context pairs must be (id, disc id or None)");
            return NULL;
        }
        Design d = {PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1)};
        if (d.disc == Py_None) d.disc = NULL;
        ADD(d);
    }

    /* list marker, heading, bold (on the whole text) */
    Py_ssize_t body = 0;
    if (n > 0 && is_marker_start((unsigned char)s[0])) {
        int num;
        Py_ssize_t end = list_marker(s, n, &num);
        if (end >= 0) {
            ADD(self->fixed[num ? F_NUM : F_BULLET]);
            body = end;
        }
    }
    if (n > 0 && (s[0] == '#' || s[0] == '*' || s[0] == '_') && heading(s, n))
        ADD(self->fixed[F_HEADING]);
    if (contains(s, n, "**")) ADD(self->fixed[F_BOLD]);

    /* low: the body lowercased, markup runs made one space */
    char *low = self->low;
    Py_ssize_t L = 0;
    int markup = 0;
    for (Py_ssize_t i = body; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
        if (HAS(c, U_RSQUO)) c = '\'';
        markup |= is_markup(c);
        low[L++] = (char)c;
    }
    if (markup) {
        Py_ssize_t k = 0;
        for (Py_ssize_t i = 0; i < L;) {
            if (is_markup((unsigned char)low[i])) {
                while (i < L && is_markup((unsigned char)low[i])) i++;
                low[k++] = ' ';
            } else {
                low[k++] = low[i++];
            }
        }
        L = k;
    }
    int low_ascii = 1;
    for (Py_ssize_t i = 0; i < L && low_ascii; i++) low_ascii = (unsigned char)low[i] < 0x80;
    Py_ssize_t core = L;
    if (low_ascii)
        while (core > 0 && is_trail_ascii((unsigned char)low[core - 1])) core--;
    else
        while (core > 0 && is_trail((unsigned char)low[core - 1])) core--;

    /* tokens; words are the tokens but "?" and "!" */
    Py_ssize_t *ta = self->tok_a, *tb = self->tok_b;
    Py_ssize_t nt = 0;
    for (Py_ssize_t i = 0; i < L;) {
        unsigned char c = (unsigned char)low[i];
        if (is_token_char(c)) {
            Py_ssize_t j = i;
            while (j < L && is_token_char((unsigned char)low[j])) j++;
            if (j + 1 < L && low[j] == '\'' && is_lower((unsigned char)low[j + 1])) {
                j += 1;
                while (j < L && is_lower((unsigned char)low[j])) j++;
            }
            ta[nt] = i;
            tb[nt++] = j;
            i = j;
        } else if (c == '?' || c == '!') {
            ta[nt] = i;
            tb[nt++] = i + 1;
            i++;
        } else {
            i++;
        }
    }
    const Table *wt = &self->words;
    Py_ssize_t *te = self->tok_r;
    for (Py_ssize_t t = 0; t < nt; t++) te[t] = table_row(wt, low + ta[t], tb[t] - ta[t]);
    Py_ssize_t *wi = self->word_tok, nw = 0; /* the words: the tokens but "?" and "!" */
    int64_t any_bits = 0, cue_bits = 0, modal_bits = 0;
    for (Py_ssize_t t = 0; t < nt; t++) {
        if (tb[t] - ta[t] == 1 && (low[ta[t]] == '?' || low[ta[t]] == '!')) continue;
        wi[nw++] = t;
        any_bits |= row_int(wt, te[t], V_BITS);
        cue_bits |= row_int(wt, te[t], V_CUE);
        modal_bits |= row_int(wt, te[t], V_MODAL);
    }

    /* the design block, in the reference's order */
    int question = core > 0 && low[core - 1] == '?';
    if (question) ADD(self->fixed[F_Q]);
    else if (core > 0 && low[core - 1] == ':') ADD(self->fixed[F_COLON]);
    if (memchr(low, '!', (size_t)core) != NULL) ADD(self->fixed[F_EXCL]);
    if (emoji) ADD(self->fixed[F_EMOJI]);
    if (nw > 0) {
        int64_t b0 = row_int(wt, te[wi[0]], V_BITS);
        int64_t b1 = nw > 1 ? row_int(wt, te[wi[1]], V_BITS) : 0;
        if (b0 & C_WH) ADD(self->fixed[F_WH0]);
        if (b0 & C_AUX) {
            ADD(self->fixed[F_AUX0]);
            if (b1 & C_SECOND) ADD(self->fixed[F_AUX_YOU]);
        }
        if ((b0 & C_BASE) && !((b0 & C_AUX) && (b1 & C_PRON))) {
            ADD(self->fixed[F_IMP0]);
        } else if (b0 & C_LEAD) {
            for (Py_ssize_t k = 1; k < nw && k < 4; k++) {
                int64_t b = row_int(wt, te[wi[k]], V_BITS);
                if (b & C_LEAD) continue;
                if ((b & C_BASE) && !(b & C_AUX)) ADD(self->fixed[F_IMP_LEAD]);
                break;
            }
        }
        if ((memchr(low, ',', (size_t)L) || memchr(low, ';', (size_t)L) ||
             contains(low, L, " then ") || contains(low, L, " and ")) &&
            clause_base(self, low, L))
            ADD(self->fixed[F_IMP_CLAUSE]);
        if (b0 & C_FIRST) ADD(self->fixed[F_I0]);
        if (b0 & C_SECOND) ADD(self->fixed[F_YOU0]);
    }
    if (any_bits & C_FEEL) {
        ADD(self->fixed[F_FEEL]);
        if (any_bits & C_SECOND) ADD(self->fixed[F_YOU_FEEL]);
        if (any_bits & C_FIRST) ADD(self->fixed[F_I_FEEL]);
        if (any_bits & C_SOUNDS) ADD(self->fixed[F_SOUNDS_FEEL]);
    }
    if (any_bits & C_SECOND) ADD(self->fixed[F_YOU]);
    if (any_bits & C_FIRST) ADD(self->fixed[F_I]);
    for (int b = 0; b < self->n_modal; b++)
        if (modal_bits & ((int64_t)1 << b)) ADD(self->modal[b]);
    if (nw > 1 && self->starts.slots != NULL) { /* multi-word cue phrases */
        for (Py_ssize_t i = 0; i + 1 < nw; i++) {
            Py_ssize_t pair = join_words(self, low, ta, tb, i, 2);
            Py_ssize_t st = table_row(&self->starts, self->key, pair);
            if (st < 0) continue;
            int64_t lengths = row_int(&self->starts, st, 0);
            for (Py_ssize_t size = 2; size < 63 && i + size <= nw; size++) {
                if (!(lengths & ((int64_t)1 << size))) continue;
                Py_ssize_t ph = table_row(&self->phrases, self->key,
                                          join_words(self, low, ta, tb, i, size));
                cue_bits |= row_int(&self->phrases, ph, 0);
            }
        }
    }
    if (cue_bits) {
        for (int b = 0; b < self->n_cue; b++)
            if (cue_bits & ((int64_t)1 << b)) ADD(self->cue[b]);
        if (question)
            for (int b = 0; b < self->n_cue; b++)
                if (cue_bits & ((int64_t)1 << b)) ADD(self->cue_q[b]);
    }
    if (position == 0) ADD(self->fixed[F_FIRST]);
    if (position == n_sentences - 1) ADD(self->fixed[F_LAST]);
    if (n_sentences == 1) ADD(self->fixed[F_ONLY]);
    if (after_heading) ADD(self->fixed[F_AFTER_HEADING]);
    ADD(self->fixed[nw <= 3 ? F_LEN1 : nw <= 8 ? F_LEN2 : nw <= 16 ? F_LEN3 : F_LEN4]);
    if (ctx_disc) {
        Py_ssize_t before = nd;
        for (Py_ssize_t i = 0; i < before; i++)
            if (design[i].disc != NULL) {
                Design d = {design[i].disc, NULL};
                ADD(d);
            }
    }

    /* the ids: word block (unigrams, bigram slots, first word(s)), word rows, the char
     * n-grams of words without a row, the design block; as fast_vectorise appends them */
    Py_ssize_t mark = PyList_GET_SIZE(ids) + 1;
    if (PyList_Append(ids, ZERO) < 0) return NULL;
    for (Py_ssize_t t = 0; t < nt; t++)
        if (append_obj(ids, row_obj(wt, te[t], V_UNI), ZERO) < 0) return NULL;
    for (Py_ssize_t t = 0; t <= nt; t++)
        if (PyList_Append(ids, ZERO) < 0) return NULL;
    if (nw > 0) {
        if (append_obj(ids, row_obj(wt, te[wi[0]], V_FIRST), ZERO) < 0) return NULL;
        if (nw > 1) {
            Py_ssize_t p = table_row(&self->pairs, self->key, join_words(self, low, ta, tb, 0, 2));
            if (append_obj(ids, row_obj(&self->pairs, p, 0), ZERO) < 0) return NULL;
        }
    }
    Py_ssize_t n_word = PyList_GET_SIZE(ids) - mark;
    if (PyList_Append(rows, ZERO) < 0) return NULL;
    int unknown = 0;
    for (Py_ssize_t k = 0; k < nw; k++) {
        PyObject *row = row_obj(wt, te[wi[k]], V_ROW);
        unknown |= row == NULL;
        if (append_obj(rows, row, ZERO) < 0) return NULL;
    }
    Py_ssize_t n_char = 0;
    if (PyList_Append(ids, ZERO) < 0) return NULL;
    mark = PyList_GET_SIZE(ids);
    if (unknown) {
        for (Py_ssize_t k = 0; k < nw; k++) {
            Py_ssize_t t = wi[k];
            if (row_obj(wt, te[t], V_ROW) != NULL) continue;
            PyObject *hit = PyObject_CallFunction(self->oov, "s#", low + ta[t],
                                                  tb[t] - ta[t]);
            if (hit == NULL) return NULL;
            if (!PyTuple_Check(hit) || PyTuple_GET_SIZE(hit) != 2 ||
                !PyList_Check(PyTuple_GET_ITEM(hit, 0))) {
                Py_DECREF(hit);
                PyErr_SetString(PyExc_TypeError, "oov must return (list, int)");
                return NULL;
            }
            PyObject *grams = PyTuple_GET_ITEM(hit, 0);
            Py_ssize_t count = PyLong_AsSsize_t(PyTuple_GET_ITEM(hit, 1));
            Py_ssize_t at = PyList_GET_SIZE(ids);
            if (count == -1 && PyErr_Occurred()) {
                Py_DECREF(hit);
                return NULL;
            }
            if (PyList_SetSlice(ids, at, at, grams) < 0) {
                Py_DECREF(hit);
                return NULL;
            }
            n_char += count;
            Py_DECREF(hit);
        }
    }
    Py_ssize_t n_unknown = PyList_GET_SIZE(ids) - mark;
    if (PyList_Append(ids, ZERO) < 0) return NULL;
    for (Py_ssize_t i = 0; i < nd; i++)
        if (PyList_Append(ids, design[i].id) < 0) return NULL;
    return Py_BuildValue("(nnnnnn)", n_word, n_char, n_unknown, nd, nw, nt);
}

/* The scratch buffers are the object's: a call that arrives while another runs (from another
 * thread, while the first is in the oov callback, or from that callback) gets None, and its
 * caller takes the Python path, with the same result. */
static PyObject *featurize(Featurizer *self, PyObject *const *args, Py_ssize_t nargs) {
    if (self->busy) Py_RETURN_NONE;
    self->busy = 1;
    PyObject *out = featurize_scratch(self, args, nargs);
    self->busy = 0;
    return out;
}

static PyMethodDef featurizer_methods[] = {
    {"featurize", (PyCFunction)(void (*)(void))featurize, METH_FASTCALL, featurize_doc},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject FeaturizerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "attunement.coding._native.Featurizer",
    .tp_basicsize = sizeof(Featurizer),
    .tp_dealloc = (destructor)featurizer_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The local coder's per-sentence features as ids (see attunement.coding.fastpath).",
    .tp_methods = featurizer_methods,
    .tp_init = (initproc)featurizer_init,
    .tp_new = PyType_GenericNew,
};

/* ------------------------------------------------------------------ the run-on splitter */

/* a list of floats or ints into a new C array */
static double *read_floats(PyObject *seq, Py_ssize_t *n, const char *what) {
    PyObject *fast = PySequence_Fast(seq, what);
    if (fast == NULL) return NULL;
    *n = PySequence_Fast_GET_SIZE(fast);
    double *out = PyMem_Malloc(((size_t)*n + 1) * sizeof(double));
    if (out == NULL) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < *n; i++)
        out[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(fast, i));
    Py_DECREF(fast);
    if (PyErr_Occurred()) {
        PyMem_Free(out);
        return NULL;
    }
    return out;
}

enum { T_WORD, T_PAIR, T_CLASS_PAIR, T_PNC, T_PCN, T_S1C, T_S2C, T_PUNCT, T_OTHER, N_TABLES };

typedef struct {
    PyObject_HEAD
    Table t[N_TABLES];
    double *dist_end, *dist_prev, *bins;
    Py_ssize_t n_end, n_prev, n_bins;
    double threshold;
    int ready; /* __init__ went through (a failed one leaves the object unusable) */
} RunonScorer;

static void scorer_dealloc(RunonScorer *self) {
    for (int i = 0; i < N_TABLES; i++) table_free(&self->t[i]);
    PyMem_Free(self->dist_end);
    PyMem_Free(self->dist_prev);
    PyMem_Free(self->bins);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int scorer_init(RunonScorer *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"by_word", "by_pair", "by_class_pair", "pnc", "pcn", "s1c", "s2c",
                             "punct", "other", "dist_end", "dist_prev", "bin_of",
                             "threshold", NULL};
    PyObject *tab[N_TABLES], *end, *prev, *bins;
    double threshold;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOOOOOOOOOd", kwlist, &tab[0], &tab[1],
                                     &tab[2], &tab[3], &tab[4], &tab[5], &tab[6], &tab[7],
                                     &tab[8], &end, &prev, &bins, &threshold))
        return -1;
    if (self->t[0].slots != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "RunonScorer is already initialised");
        return -1;
    }
    static const int widths[N_TABLES] = {4, 3, 2, 1, 1, 1, 1, 1, 1};
    for (int i = 0; i < N_TABLES; i++)
        if (table_build(&self->t[i], tab[i], kwlist[i], 0, 0, 0, widths[i]) < 0) return -1;
    self->dist_end = read_floats(end, &self->n_end, "dist_end");
    if (self->dist_end == NULL) return -1;
    self->dist_prev = read_floats(prev, &self->n_prev, "dist_prev");
    if (self->dist_prev == NULL) return -1;
    self->bins = read_floats(bins, &self->n_bins, "bin_of");
    if (self->bins == NULL) return -1;
    for (Py_ssize_t i = 0; i < self->n_bins; i++) {
        Py_ssize_t b = (Py_ssize_t)self->bins[i];
        if (b < 0 || b >= self->n_end || b >= self->n_prev) {
            PyErr_SetString(PyExc_ValueError, "bin_of: a bin past the distance weights");
            return -1;
        }
    }
    if (self->n_bins < 1 || self->n_prev < 1) {
        PyErr_SetString(PyExc_ValueError, "bin_of and dist_prev must not be empty");
        return -1;
    }
    self->threshold = threshold;
    self->ready = 1;
    return 0;
}

/* "a_b" into *buf (grown as needed); returns its length or -1 */
static Py_ssize_t pair_key(char **buf, Py_ssize_t *cap, const char *a, Py_ssize_t na,
                           const char *b, Py_ssize_t nb) {
    Py_ssize_t n = na + 1 + nb;
    if (n > *cap) {
        char *grown = PyMem_Realloc(*buf, (size_t)n * 2);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        *buf = grown;
        *cap = n * 2;
    }
    memcpy(*buf, a, (size_t)na);
    (*buf)[na] = '_';
    memcpy(*buf + na + 1, b, (size_t)nb);
    return n;
}

static double dict_weight(PyObject *dict, PyObject *key, int *err) {
    PyObject *v = PyDict_GetItemWithError(dict, key);
    if (v == NULL) {
        if (PyErr_Occurred()) *err = 1;
        return 0.0;
    }
    double x = PyFloat_AsDouble(v);
    if (x == -1.0 && PyErr_Occurred()) *err = 1;
    return x;
}

PyDoc_STRVAR(cuts_doc,
"cuts(words, classes, raws, base, before, after, blocked)\n\n"
"The gaps (after token g) the run-on splitter cuts in one stretch of at least two tokens,\n"
"as Splitter.cuts finds them: words and classes from runon.prepare, the raw tokens, base =\n"
"bias + the register's weight, before/after = Splitter.class_weights(register), blocked(g)\n"
"says whether gap g may never be cut. None when a word has no UTF-8 form (the Python path\n"
"then decides).");

/* cuts (with_cuts) or the scores of the gaps (for the tests: the same floats as Python's) */
static PyObject *scorer_run(RunonScorer *self, PyObject *const *args, Py_ssize_t nargs,
                            int with_cuts) {
    if (nargs != 6 + with_cuts) {
        PyErr_Format(PyExc_TypeError, "%s takes %d arguments", with_cuts ? "cuts" : "scores",
                     6 + with_cuts);
        return NULL;
    }
    PyObject *words = args[0], *classes = args[1], *raws = args[2], *before = args[4],
             *after = args[5], *blocked = with_cuts ? args[6] : Py_None;
    double base = PyFloat_AsDouble(args[3]);
    if (base == -1.0 && PyErr_Occurred()) return NULL;
    if (!PyList_Check(words) || !PyList_Check(classes) || !PyList_Check(raws) ||
        !PyDict_Check(before) || !PyDict_Check(after) ||
        (with_cuts && !PyCallable_Check(blocked))) {
        PyErr_SetString(PyExc_TypeError, "cuts(list, list, list, float, dict, dict, callable)");
        return NULL;
    }
    if (!self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "RunonScorer is not initialised");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(raws);
    if (PyList_GET_SIZE(words) != n || PyList_GET_SIZE(classes) != n) {
        PyErr_SetString(PyExc_ValueError, "words, classes and raws must be as long");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < n; k++)
        if (!PyUnicode_Check(PyList_GET_ITEM(words, k)) ||
            !PyUnicode_Check(PyList_GET_ITEM(classes, k)) ||
            !PyUnicode_Check(PyList_GET_ITEM(raws, k))) {
            PyErr_SetString(PyExc_TypeError, "words, classes and raws must hold str");
            return NULL;
        }
    if (n < 2) return PyList_New(0);
    Py_ssize_t m = n - 1; /* gaps */
    /* UTF-8 of the extended words ("<s>", words..., "</s>") and of the classes ("end" after) */
    const char **wb = PyMem_Malloc((size_t)(n + 2) * sizeof(char *));
    Py_ssize_t *wl = PyMem_Malloc((size_t)(n + 2) * sizeof(Py_ssize_t));
    const char **cb = PyMem_Malloc((size_t)(n + 1) * sizeof(char *));
    Py_ssize_t *cl = PyMem_Malloc((size_t)(n + 1) * sizeof(Py_ssize_t));
    const double **tw = PyMem_Malloc((size_t)(n + 2) * sizeof(double *));
    const double **tp = PyMem_Malloc((size_t)(n + 1) * sizeof(double *));
    const double **tc = PyMem_Malloc((size_t)n * sizeof(double *));
    double *score = PyMem_Malloc((size_t)m * sizeof(double));
    char *key = NULL;
    Py_ssize_t cap = 0;
    PyObject *out = NULL;
    int err = 0; /* a before/after weight that is not a float */
    if (!wb || !wl || !cb || !cl || !tw || !tp || !tc || !score) {
        PyErr_NoMemory();
        goto done;
    }
    wb[0] = "<s>";
    wl[0] = 3;
    wb[n + 1] = "</s>";
    wl[n + 1] = 4;
    for (Py_ssize_t k = 0; k < n; k++) {
        wb[k + 1] = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(words, k), &wl[k + 1]);
        cb[k] = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(classes, k), &cl[k]);
        if (wb[k + 1] == NULL || cb[k] == NULL) { /* a lone surrogate: Python decides */
            PyErr_Clear();
            out = Py_None;
            Py_INCREF(out);
            goto done;
        }
    }
    cb[n] = "end";
    cl[n] = 3;
    for (Py_ssize_t k = 0; k < n + 2; k++) tw[k] = table_weights(&self->t[T_WORD], wb[k], wl[k]);
    for (Py_ssize_t k = 0; k < n + 1; k++) {
        Py_ssize_t len = pair_key(&key, &cap, wb[k], wl[k], wb[k + 1], wl[k + 1]);
        if (len < 0) goto done;
        tp[k] = table_weights(&self->t[T_PAIR], key, len);
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_ssize_t len = pair_key(&key, &cap, cb[k], cl[k], cb[k + 1], cl[k + 1]);
        if (len < 0) goto done;
        tc[k] = table_weights(&self->t[T_CLASS_PAIR], key, len);
    }
    Py_ssize_t top = self->n_bins - 1;
    for (Py_ssize_t g = 0; g < m; g++) {
        /* the terms of Splitter.scores, added in its order */
        Py_ssize_t d = m - g < top ? m - g : top;
        double s = base;
        s += self->dist_end[(Py_ssize_t)self->bins[d]];
        s += tw[g + 1][0];
        s += tw[g][1];
        s += tw[g + 2][2];
        s += tw[g + 3][3];
        s += tp[g][0];
        s += tp[g + 1][1];
        s += tp[g + 2][2];
        s += dict_weight(before, PyList_GET_ITEM(classes, g), &err);
        s += dict_weight(after, PyList_GET_ITEM(classes, g + 1), &err);
        s += tc[g][0];
        s += tc[g + 1][1];
        Py_ssize_t len;
        const char *c1 = cb[g + 1], *c0 = cb[g];
        /* pnc: word before, class after; pcn: class before, word after */
        if ((len = pair_key(&key, &cap, wb[g + 1], wl[g + 1], c1, cl[g + 1])) < 0) goto done;
        s += table_weights(&self->t[T_PNC], key, len)[0];
        if ((len = pair_key(&key, &cap, c0, cl[g], wb[g + 2], wl[g + 2])) < 0) goto done;
        s += table_weights(&self->t[T_PCN], key, len)[0];
        /* s1c: the word one back (ew[g]); s2c: two back ("<s>" before the second word) */
        if ((len = pair_key(&key, &cap, wb[g], wl[g], c1, cl[g + 1])) < 0) goto done;
        s += table_weights(&self->t[T_S1C], key, len)[0];
        const char *two = g >= 2 ? wb[g - 1] : "<s>";
        Py_ssize_t ntwo = g >= 2 ? wl[g - 1] : 3;
        if ((len = pair_key(&key, &cap, two, ntwo, c1, cl[g + 1])) < 0) goto done;
        s += table_weights(&self->t[T_S2C], key, len)[0];
        score[g] = s;
    }
    if (err) goto done;
    for (Py_ssize_t g = 0; g < m; g++) {
        PyObject *raw = PyList_GET_ITEM(raws, g), *next = PyList_GET_ITEM(raws, g + 1);
        Py_ssize_t len = PyUnicode_GET_LENGTH(raw);
        if (len > 0) {
            Py_UCS4 last = PyUnicode_READ_CHAR(raw, len - 1);
            if (last == ',' || last == ';' || last == ':') {
                char k1 = (char)last;
                score[g] += table_weights(&self->t[T_PUNCT], &k1, 1)[0];
            }
        }
        if (PyUnicode_GET_LENGTH(next) > 0 && Py_UNICODE_ISUPPER(PyUnicode_READ_CHAR(next, 0))) {
            int is_i = wl[g + 2] == 1 && wb[g + 2][0] == 'i';
            score[g] += is_i ? table_weights(&self->t[T_OTHER], "capI", 4)[0]
                             : table_weights(&self->t[T_OTHER], "cap", 3)[0];
        }
    }
    if (!with_cuts) {
        out = PyList_New(m);
        for (Py_ssize_t g = 0; out != NULL && g < m; g++) {
            PyObject *x = PyFloat_FromDouble(score[g]);
            if (x == NULL) goto fail;
            PyList_SET_ITEM(out, g, x);
        }
        goto done;
    }
    /* greedy decoding, left to right (Splitter.cuts) */
    double best = score[0], best_prev = self->dist_prev[0];
    for (Py_ssize_t g = 1; g < m; g++) best = score[g] > best ? score[g] : best;
    for (Py_ssize_t i = 1; i < self->n_prev; i++)
        best_prev = self->dist_prev[i] > best_prev ? self->dist_prev[i] : best_prev;
    out = PyList_New(0);
    if (out == NULL || best + best_prev <= self->threshold) goto done;
    Py_ssize_t last_cut = -1;
    for (Py_ssize_t g = 0; g < m; g++) {
        Py_ssize_t d = g - last_cut;
        double p = d < self->n_bins ? self->dist_prev[(Py_ssize_t)self->bins[d]]
                                    : self->dist_prev[self->n_prev - 1];
        if (!(score[g] + p > self->threshold)) continue;
        PyObject *gi = PyLong_FromSsize_t(g);
        if (gi == NULL) goto fail;
        PyObject *no = PyObject_CallOneArg(blocked, gi);
        if (no == NULL) {
            Py_DECREF(gi);
            goto fail;
        }
        int is_blocked = PyObject_IsTrue(no);
        Py_DECREF(no);
        if (is_blocked < 0 || (!is_blocked && PyList_Append(out, gi) < 0)) {
            Py_DECREF(gi);
            goto fail;
        }
        Py_DECREF(gi);
        if (!is_blocked) last_cut = g;
    }
    goto done;
fail:
    Py_CLEAR(out);
done:
    if (err) Py_CLEAR(out);
    PyMem_Free(wb);
    PyMem_Free(wl);
    PyMem_Free(cb);
    PyMem_Free(cl);
    PyMem_Free(tw);
    PyMem_Free(tp);
    PyMem_Free(tc);
    PyMem_Free(score);
    PyMem_Free(key);
    return out;
}

static PyObject *scorer_cuts(RunonScorer *self, PyObject *const *args, Py_ssize_t nargs) {
    return scorer_run(self, args, nargs, 1);
}

PyDoc_STRVAR(scores_doc,
"scores(words, classes, raws, base, before, after)\n\n"
"Each gap's score before the distance from the previous cut, as Splitter.scores gives it\n"
"(the same floats); for checking the compiled path against the Python one.");

static PyObject *scorer_scores(RunonScorer *self, PyObject *const *args, Py_ssize_t nargs) {
    return scorer_run(self, args, nargs, 0);
}

static PyMethodDef scorer_methods[] = {
    {"cuts", (PyCFunction)(void (*)(void))scorer_cuts, METH_FASTCALL, cuts_doc},
    {"scores", (PyCFunction)(void (*)(void))scorer_scores, METH_FASTCALL, scores_doc},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject RunonScorerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "attunement.coding._native.RunonScorer",
    .tp_basicsize = sizeof(RunonScorer),
    .tp_dealloc = (destructor)scorer_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The run-on splitter's gap scores and cuts (see attunement.coding.fastpath).",
    .tp_methods = scorer_methods,
    .tp_init = (initproc)scorer_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native",
    "The local coder's hot loops, compiled (optional; the Python code is the reference).",
    -1, NULL,
};

PyMODINIT_FUNC PyInit__native(void) {
    if (PyType_Ready(&FeaturizerType) < 0 || PyType_Ready(&RunonScorerType) < 0) return NULL;
    ZERO = PyLong_FromLong(0);
    if (ZERO == NULL) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&FeaturizerType);
    if (PyModule_AddObject(m, "Featurizer", (PyObject *)&FeaturizerType) < 0) {
        Py_DECREF(&FeaturizerType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&RunonScorerType);
    if (PyModule_AddObject(m, "RunonScorer", (PyObject *)&RunonScorerType) < 0) {
        Py_DECREF(&RunonScorerType);
        Py_DECREF(m);
        return NULL;
    }
    /* the version of the rules this file implements; fastpath refuses a mismatch */
    if (PyModule_AddIntConstant(m, "FEATURE_VERSION", 2) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
