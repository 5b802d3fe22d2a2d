// load_tokenizer validation; encode/decode as run.c (llama2.c's test.c vectors, byte fallback,
// round trips).
#include "llm/tokenizer.h"
#include "test_util.h"

#include <math.h>

#include <chrono>

using namespace llmtest;
using bf::llm::Tokenizer;

namespace {

const std::string kTok512 = shared_path("models/tok512.bin");
const std::string kTok32k = shared_path("models/tokenizer.bin");

std::string load_err(const std::string &bytes, int vocab) {
    Tokenizer t;
    std::string err;
    const bool ok = bf::llm::load_tokenizer(bytes.data(), bytes.size(), vocab, t, err);
    EXPECT_EQ(ok, err.empty()) << err;
    return ok ? "" : err;
}

// A tokenizer file from (score, declared length, bytes) entries.
struct Entry {
    float score;
    int32_t len;
    std::string bytes;
};
std::string make_tok(int32_t max_len, const std::vector<Entry> &entries) {
    std::string s(reinterpret_cast<const char *>(&max_len), 4);
    for (const Entry &e : entries) {
        s.append(reinterpret_cast<const char *>(&e.score), 4);
        s.append(reinterpret_cast<const char *>(&e.len), 4);
        s += e.bytes;
    }
    return s;
}

Tokenizer load(const std::string &path, int vocab) {
    Tokenizer t;
    std::string err;
    const std::string bytes = read_text(path);
    EXPECT_TRUE(bf::llm::load_tokenizer(bytes.data(), bytes.size(), vocab, t, err)) << err;
    return t;
}

std::string decode_all(const Tokenizer &t, const std::vector<int> &tokens) {
    std::string s;
    for (size_t i = 1; i < tokens.size(); i++) s += t.decode(tokens[i - 1], tokens[i]);
    return s;
}

}  // namespace

TEST(Tokenizer, LoadValidation) {
    EXPECT_NE(load_err("", 3).find("too short for max_token_length"), std::string::npos);
    EXPECT_NE(load_err(make_tok(4, {{0, 1, "a"}}), 0).find("vocabulary size 0 is not positive"), std::string::npos);
    EXPECT_NE(load_err(make_tok(0, {}), 1).find("max_token_length is 0"), std::string::npos);
    EXPECT_NE(load_err(make_tok(-7, {}), 1).find("max_token_length is -7"), std::string::npos);
    EXPECT_NE(load_err(make_tok(1 << 30, {}), 1).find("max_token_length is 1073741824"), std::string::npos);
    // An entry whose bytes run past the end of the file.
    std::string e = load_err(make_tok(10, {{0, 3, "abc"}, {0, 8, "ab"}}), 2);
    EXPECT_NE(e.find("token 1: length 8 runs past the end of the file"), std::string::npos) << e;
    // Longer than max_token_length, negative.
    e = load_err(make_tok(4, {{0, 3, "abc"}, {0, 5, "abcde"}}), 2);
    EXPECT_NE(e.find("token 1: length 5 is outside 0..max_token_length 4"), std::string::npos) << e;
    e = load_err(make_tok(4, {{0, -1, ""}}), 1);
    EXPECT_NE(e.find("token 0: length -1 is outside"), std::string::npos) << e;
    // A partial entry header at the end.
    e = load_err(make_tok(4, {{0, 1, "a"}}) + "xyz", 2);
    EXPECT_NE(e.find("token 1: score and length run past the end"), std::string::npos) << e;
    // Count mismatch.
    e = load_err(make_tok(4, {{0, 1, "a"}, {0, 1, "b"}}), 3);
    EXPECT_NE(e.find("tokenizer: has 2 tokens but the model's vocabulary is 3"), std::string::npos) << e;
    // Empty tokens are allowed (as in run.c).
    EXPECT_EQ(load_err(make_tok(4, {{0, 0, ""}, {0, 1, "b"}}), 2), "");
}

// Found by the fuzzer: with an empty BOS string, run.c's merge loop would swallow BOS.
TEST(Tokenizer, BosNeverMerges) {
    Tokenizer t;
    std::string err;
    const std::string bytes = make_tok(5, {{0, 5, "<unk>"}, {0, 0, ""}, {0, 0, ""}, {0, 1, "a"}, {0, 1, " "}, {5, 2, " a"}});
    ASSERT_TRUE(bf::llm::load_tokenizer(bytes.data(), bytes.size(), 6, t, err)) << err;
    EXPECT_EQ(t.encode("a", true, true), std::vector<int>({1, 5, 2}));
    EXPECT_EQ(t.encode("a", false, false), std::vector<int>({5}));
}

TEST(Tokenizer, RealFilesValidation) {
    LLM_REQUIRE_FILE(kTok512);
    LLM_REQUIRE_FILE(kTok32k);
    const std::string small = read_text(kTok512), big = read_text(kTok32k);
    EXPECT_EQ(load_err(small, 512), "");
    EXPECT_EQ(load_err(big, 32000), "");
    EXPECT_NE(load_err(small, 32000).find("tokenizer: has 512 tokens but the model's vocabulary is 32000"), std::string::npos);
    EXPECT_NE(load_err(big, 512).find("tokenizer: has 32000 tokens but the model's vocabulary is 512"), std::string::npos);
    // The last entry cut short: its length runs past the end.
    const std::string e = load_err(small.substr(0, small.size() - 1), 512);
    EXPECT_NE(e.find("token 511: length"), std::string::npos) << e;
    EXPECT_NE(e.find("runs past the end of the file"), std::string::npos) << e;
}

// The expected ids are those of llama2.c's test.c (from the Llama 2 sentencepiece model).
TEST(Tokenizer, EncodeMatchesLlama2cVectors) {
    LLM_REQUIRE_FILE(kTok32k);
    const Tokenizer t = load(kTok32k, 32000);
    EXPECT_EQ(t.encode("", true, false), std::vector<int>({1}));
    EXPECT_EQ(t.encode("I believe the meaning of life is", true, false),
              std::vector<int>({1, 306, 4658, 278, 6593, 310, 2834, 338}));
    EXPECT_EQ(t.encode("Simply put, the theory of relativity states that ", true, false),
              std::vector<int>({1, 3439, 17632, 1925, 29892, 278, 6368, 310, 14215, 537, 5922, 393, 29871}));
    EXPECT_EQ(t.encode("A brief message congratulating the team on the launch:\n\n        Hi everyone,\n\n        I just ", true, false),
              std::vector<int>({1, 319, 11473, 2643, 378, 629, 271, 18099, 278, 3815, 373, 278, 6826, 29901, 13, 13, 4706, 6324, 14332, 29892, 13, 13, 4706, 306, 925, 29871}));
    EXPECT_EQ(t.encode("Translate English to French:\n\n        sea otter => loutre de mer\n        peppermint => menthe poivrée\n        plush girafe => girafe peluche\n        cheese =>", true, false),
              std::vector<int>({1, 4103, 9632, 4223, 304, 5176, 29901, 13, 13, 4706, 7205, 4932, 357, 1149, 301, 449, 276, 316, 2778, 13, 4706, 1236, 407, 837, 524, 1149, 6042, 354, 772, 440, 29878, 1318, 13, 4706, 715, 1878, 330, 3055, 1725, 1149, 330, 3055, 1725, 4639, 28754, 13, 4706, 923, 968, 1149}));
}

TEST(Tokenizer, EncodeTok512) {
    LLM_REQUIRE_FILE(kTok512);
    const Tokenizer t = load(kTok512, 512);
    EXPECT_EQ(t.max_token_length, 10);
    // The prompts of the reference traces (their first tokens).
    EXPECT_EQ(t.encode("The robot", true, false), std::vector<int>({1, 368, 430, 429, 302, 450, 437, 434}));
    EXPECT_EQ(t.encode("Echoes of", true, false), std::vector<int>({1, 388, 355, 260, 275}));
    EXPECT_EQ(t.encode("", true, false), std::vector<int>({1}));
    EXPECT_EQ(t.encode("", false, false), std::vector<int>());
    EXPECT_EQ(t.encode("Echoes of", false, true), std::vector<int>({388, 355, 260, 275, 2}));
    // The text is a C string, as in run.c.
    EXPECT_EQ(t.encode(std::string_view("Echoes of\0xyz", 13), true, false), t.encode("Echoes of", true, false));
    EXPECT_EQ(t.lookup(" "), 429);
    EXPECT_EQ(t.lookup(" h"), 309);
    EXPECT_EQ(t.lookup("no such token"), -1);
}

TEST(Tokenizer, ByteFallback) {
    LLM_REQUIRE_FILE(kTok512);
    const Tokenizer t = load(kTok512, 512);
    // é (C3 A9) and ✓ (E2 9C 93) are not in this vocabulary: byte tokens, id = byte + 3.
    const std::vector<int> ids = t.encode("h\xc3\xa9llo \xe2\x9c\x93", true, false);
    EXPECT_EQ(ids, std::vector<int>({1, 309, 198, 172, 438, 438, 437, 429, 229, 159, 150}));
    EXPECT_EQ(t.vocab[198], "<0xC3>");
    EXPECT_STREQ(t.decode(5, 198), "\xc3");
    EXPECT_STREQ(t.decode(5, 3 + 'A'), "A");
    EXPECT_STREQ(t.decode(5, 3), "");  // <0x00>: an empty C string, as in run.c
    EXPECT_EQ(decode_all(t, ids), "h\xc3\xa9llo \xe2\x9c\x93");
}

TEST(Tokenizer, DecodeRules) {
    LLM_REQUIRE_FILE(kTok32k);
    const Tokenizer t = load(kTok32k, 32000);
    const int the = t.lookup(" The");
    ASSERT_GT(the, 0);
    EXPECT_STREQ(t.decode(1, the), "The");   // leading space stripped after BOS
    EXPECT_STREQ(t.decode(5, the), " The");  // kept elsewhere
    EXPECT_STREQ(t.decode(1, 13), "\n");     // <0x0A>
    EXPECT_STREQ(t.decode(1, -1), "");
    EXPECT_STREQ(t.decode(1, 32000), "");
    EXPECT_FALSE(bf::llm::piece_is_printable(""));
    EXPECT_FALSE(bf::llm::piece_is_printable("\x01"));
    EXPECT_FALSE(bf::llm::piece_is_printable("\x7f"));
    EXPECT_FALSE(bf::llm::piece_is_printable("\xc3"));
    EXPECT_TRUE(bf::llm::piece_is_printable("\n"));
    EXPECT_TRUE(bf::llm::piece_is_printable("\t"));
    EXPECT_TRUE(bf::llm::piece_is_printable("a"));
    EXPECT_TRUE(bf::llm::piece_is_printable("\xc3\xa9"));
    EXPECT_TRUE(bf::llm::piece_is_printable("\x01\x02"));
}

TEST(Tokenizer, RoundTrips) {
    LLM_REQUIRE_FILE(kTok512);
    LLM_REQUIRE_FILE(kTok32k);
    const Tokenizer small = load(kTok512, 512), big = load(kTok32k, 32000);
    const char *texts[] = {
        "The robot",
        "Hello, world!\n\tTabs and  double  spaces.",
        " leading space",
        "trailing space ",
        "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x99\x82",
        "control \x01\x02\x7f bytes",
        "invalid utf-8: \xff\xfe\x80\x80\x80\x80\x80 abc \xc3",
        "12345 67890 +-*/ <0x41> <s> </s>",
    };
    for (const Tokenizer *t : {&small, &big})
        for (const char *text : texts) {
            SCOPED_TRACE(text);
            const std::vector<int> ids = t->encode(text, true, false);
            for (int id : ids) {
                EXPECT_GE(id, 0);
                EXPECT_LT(id, t->vocab_size);
            }
            EXPECT_EQ(decode_all(*t, ids), text);
        }
}

namespace {

// run.c's merge loop as it was written (quadratic): the reference the heap version must match.
void merge_pairs_runc(const Tokenizer &t, std::vector<int> &tokens, size_t first) {
    std::string pair;
    for (;;) {
        float best_score = -1e10f;
        int best_id = -1;
        size_t best_idx = 0;
        for (size_t i = first; i + 1 < tokens.size(); i++) {
            pair = t.vocab[size_t(tokens[i])] + t.vocab[size_t(tokens[i + 1])];
            const int id = t.lookup(pair);
            if (id != -1 && t.scores[size_t(id)] > best_score) {
                best_score = t.scores[size_t(id)];
                best_id = id;
                best_idx = i;
            }
        }
        if (best_id == -1) return;
        tokens[best_idx] = best_id;
        tokens.erase(tokens.begin() + std::ptrdiff_t(best_idx) + 1);
    }
}

void expect_same_merges(const Tokenizer &t, uint32_t seed, int cases, int max_len) {
    uint32_t s = seed;
    auto rnd = [&s] { return s = s * 1664525u + 1013904223u, s >> 8; };
    for (int c = 0; c < cases; c++) {
        std::vector<int> tokens;
        const int n = int(rnd() % uint32_t(max_len)) + 1;
        for (int i = 0; i < n; i++) tokens.push_back(int(rnd() % uint32_t(t.vocab_size)));
        const size_t first = rnd() % 2;
        std::vector<int> want = tokens, got = tokens;
        merge_pairs_runc(t, want, first);
        t.merge_pairs(got, first);
        ASSERT_EQ(got, want) << "case " << c;
    }
}

}  // namespace

// The n log n merge loop chooses exactly what run.c's rescans choose: random token sequences over
// a vocabulary full of ties, empty strings and duplicates (the cases a version check must get
// right), then real text over both real vocabularies.
TEST(Tokenizer, HeapMergesMatchRunc) {
    std::vector<Entry> e;
    const char *strs[] = {"", "a", "b", "ab", "ba", "aa", "bb", "aab", "abb", "aba", "ab", "", "bab", "aaaa",
                          "abab", "<0x41>", "b", "ababab"};
    float score = 0;
    for (const char *x : strs) e.push_back({score = score == 0 ? -1e10f : (score < -5 ? 1.0f : score + 0.5f),
                                            int32_t(strlen(x)), x});
    e[4].score = e[5].score = e[6].score = 2.0f;  // ties: the leftmost pair must win
    const std::string bytes = make_tok(8, e);
    Tokenizer t;
    std::string err;
    ASSERT_TRUE(bf::llm::load_tokenizer(bytes.data(), bytes.size(), int(e.size()), t, err)) << err;
    expect_same_merges(t, 1, 3000, 40);

    LLM_REQUIRE_FILE(kTok512);
    LLM_REQUIRE_FILE(kTok32k);
    for (const Tokenizer &real : {load(kTok512, 512), load(kTok32k, 32000)}) {
        expect_same_merges(real, 7, 200, 200);
        // Real text: byte-level pieces of a paragraph, as encode() starts from.
        const std::string text = "Once upon a time, there was a little girl named Lily. She loved to play "
                                 "outside in the sunshine \xe2\x9c\x93 and eat ice-cream!";
        std::vector<int> start;
        for (char ch : text) {
            const int id = real.lookup(std::string(1, ch));
            start.push_back(id >= 0 ? id : int(static_cast<unsigned char>(ch)) + 3);
        }
        std::vector<int> want = start, got = start;
        merge_pairs_runc(real, want, 0);
        real.merge_pairs(got, 0);
        EXPECT_EQ(got, want);
    }
}

// A 100 KB prompt: run.c's loop took minutes; the heap takes well under a second.
TEST(Tokenizer, LongPromptEncodesFast) {
    LLM_REQUIRE_FILE(kTok512);
    const Tokenizer t = load(kTok512, 512);
    std::string text;
    while (text.size() < 100000) text += "Once upon a time there was a little girl named Lily. ";
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<int> ids = t.encode(text, true, false);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(s, 5.0);
    EXPECT_EQ(decode_all(t, ids), text);
}

// Found by the probe: bytes after the last token and NaN/Inf scores were accepted silently.
TEST(Tokenizer, RefusesTrailingBytesAndNonFiniteScores) {
    // Exactly vocab_size entries, then junk: named as trailing bytes, not as a token count.
    std::string e = load_err(make_tok(4, {{0, 1, "a"}, {0, 1, "b"}}) + "xyz", 2);
    EXPECT_NE(e.find("3 trailing bytes after the last of the 2 tokens"), std::string::npos) << e;
    // Appended bytes that parse as whole entries: counted, and where the model's part ends said.
    e = load_err(make_tok(4, {{0, 1, "a"}, {0, 1, "b"}}) + std::string(8, '\0'), 2);
    EXPECT_NE(e.find("has 3 tokens but the model's vocabulary is 2 (8 bytes after its 2 tokens)"), std::string::npos) << e;
    e = load_err(make_tok(4, {{0, 1, "a"}, {NAN, 1, "b"}}), 2);
    EXPECT_NE(e.find("token 1: score is not a finite number (nan)"), std::string::npos) << e;
    e = load_err(make_tok(4, {{-INFINITY, 1, "a"}, {0, 1, "b"}}), 2);
    EXPECT_NE(e.find("token 0: score is not a finite number (-inf)"), std::string::npos) << e;
}
