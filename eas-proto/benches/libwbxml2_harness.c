/*
 * Times libwbxml2 as a library on one WBXML file, for the wbxml benchmark
 * (eas-proto/benches/wbxml.rs builds and runs this beside our own codec, on
 * the same bytes, in the same run).
 *
 * Usage: libwbxml2_harness FILE ITERATIONS
 * Prints one line per operation: "<name> <median nanoseconds>".
 *
 * The tree functions are exported by libwbxml2.so but their header
 * (wbxml_tree.h) is not installed by Debian's libwbxml2-dev, so they are
 * declared here with the signatures of libwbxml2 0.11.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wbxml/wbxml.h>

typedef struct WBXMLTree_s WBXMLTree;
typedef struct WBXMLParser_s WBXMLParser;

WBXMLError wbxml_tree_from_wbxml(WB_UTINY *wbxml, WB_ULONG wbxml_len, WBXMLLanguage lang,
                                 WBXMLCharsetMIBEnum charset, WBXMLTree **tree);
WBXMLError wbxml_tree_to_wbxml(WBXMLTree *tree, WB_UTINY **wbxml, WB_ULONG *wbxml_len,
                               WBXMLGenWBXMLParams *params);
void wbxml_tree_destroy(WBXMLTree *tree);
WBXMLParser *wbxml_parser_create(void);
void wbxml_parser_destroy(WBXMLParser *parser);
WBXMLError wbxml_parser_parse(WBXMLParser *parser, WB_UTINY *wbxml, WB_ULONG wbxml_len);
WB_BOOL wbxml_parser_set_language(WBXMLParser *parser, WBXMLLanguage lang);

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static long long median(long long *t, int n) {
    qsort(t, n, sizeof *t, cmp);
    return t[n / 2];
}

static void fail(const char *what, WBXMLError err) {
    fprintf(stderr, "libwbxml2_harness: %s: %s\n", what, (const char *)wbxml_errors_string(err));
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE ITERATIONS\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    WB_UTINY *buf = malloc(len);
    if (!buf || fread(buf, 1, len, f) != (size_t)len) { perror("read"); return 1; }
    fclose(f);
    int n = atoi(argv[2]);
    if (n < 1) n = 1;
    long long *t = calloc(n, sizeof *t);

    /* Decode to a tree: the counterpart of Element::decode. */
    for (int i = 0; i < n; i++) {
        WBXMLTree *tree = NULL;
        long long s = now_ns();
        WBXMLError err = wbxml_tree_from_wbxml(buf, len, WBXML_LANG_ACTIVESYNC, WBXML_CHARSET_UTF_8, &tree);
        t[i] = now_ns() - s;
        if (err != WBXML_OK) fail("wbxml_tree_from_wbxml", err);
        wbxml_tree_destroy(tree);
    }
    printf("tree_decode %lld\n", median(t, n));

    /* Parse without building anything: the counterpart of Reader events. */
    for (int i = 0; i < n; i++) {
        WBXMLParser *p = wbxml_parser_create();
        wbxml_parser_set_language(p, WBXML_LANG_ACTIVESYNC);
        long long s = now_ns();
        WBXMLError err = wbxml_parser_parse(p, buf, len);
        t[i] = now_ns() - s;
        if (err != WBXML_OK) fail("wbxml_parser_parse", err);
        wbxml_parser_destroy(p);
    }
    printf("parse %lld\n", median(t, n));

    /* Encode a tree: the counterpart of Element::encode. */
    WBXMLTree *tree = NULL;
    WBXMLError err = wbxml_tree_from_wbxml(buf, len, WBXML_LANG_ACTIVESYNC, WBXML_CHARSET_UTF_8, &tree);
    if (err != WBXML_OK) fail("wbxml_tree_from_wbxml", err);
    WBXMLGenWBXMLParams params;
    memset(&params, 0, sizeof params);
    params.wbxml_version = WBXML_VERSION_13;
    params.use_strtbl = FALSE;
    params.produce_anonymous = TRUE;
    WB_ULONG out_len = 0;
    for (int i = 0; i < n; i++) {
        WB_UTINY *out = NULL;
        long long s = now_ns();
        err = wbxml_tree_to_wbxml(tree, &out, &out_len, &params);
        t[i] = now_ns() - s;
        if (err != WBXML_OK) fail("wbxml_tree_to_wbxml", err);
        free(out);
    }
    printf("tree_encode %lld\n", median(t, n));
    printf("encoded_bytes %lu\n", (unsigned long)out_len);
    wbxml_tree_destroy(tree);
    free(t);
    free(buf);
    return 0;
}
