using System.IO.Compression;
using System.Text;
using Amalgam.Engine.Data.Text;
using Amalgam.TestSupport;

namespace Amalgam.Engine.Tests.Data.Text;

/// <summary>Small hand-written WordNet, fortune and FOLDOC files in a temp folder, with the
/// awkward cases of the real formats: hex w_cnt, adjective markers, satellites, verb frames,
/// instance hypernyms, Latin-1 text, empty entries, a '%' at the end of a file, links to skip.</summary>
public sealed class SmallTextSources : IDisposable
{
    private readonly Fixtures.TempDir _dir = Fixtures.NewTempDir();

    public TextSources Sources { get; }

    // Offsets need not match byte positions: the reader keys synsets by the offsets written.
    public const string Nouns =
        "  1 This software and database is being provided to you, the LICENSEE, by  \n" +
        "  2 Princeton University under the following license.  \n" +
        "00001000 03 n 01 entity 0 000 | that which exists  \n" +
        "00001100 05 n 02 canine 0 canid 0 001 @ 00001000 n 0000 | a carnivorous mammal; \"a canine howled\"  \n" +
        "00001200 05 n 0c dog 0 domestic_dog 0 w3 0 w4 0 w5 0 w6 0 w7 0 w8 0 w9 0 w10 0 w11 0 w12 0 002 @ 00001100 n 0000 @i 00001000 n 040d" +
        " | a member of the genus Canis; occurs in many breeds; \"the dog barked all night\"; \"dogs bark\"- Someone  \n" +
        "00001300 18 n 01 dog 1 001 @ 00001000 n 0000 | a dull unattractive unpleasant girl or woman; \"she got a reputation as a frump\"  \n" +
        "00001400 18 n 01 dog 2 000 | informal term for a man; \"you lucky dog\"  \n" +
        "00001500 06 n 01 dog 3 000 | a smooth-textured sausage; \"a dog with mustard\"  \n";

    public const string Verbs =
        "  1 licence line  \n" +
        "00002100 30 v 01 change 0 000 01 + 01 00 | undergo a change  \n" +
        "00002000 30 v 03 melt 1 run 0 melt_down 0 002 @ 00002100 v 0000 + 00001000 n 0101 03 + 01 00 + 08 00 + 11 02" +
        " | reduce from a solid to a liquid state, usually by heating; \"melt butter\"; \"The wax melted in the sun\"  \n" +
        "00002200 38 v 01 run 0 000 02 + 01 00 + 02 00 | move fast by using one's feet; \"Don't run--you'll be out of breath\"  \n";

    public const string Adjectives =
        "00003000 00 a 01 remote(a) 0 000 | located far away spatially  \n" +
        "00003100 00 s 02 outback(a) 0 back(ip) 0 001 & 00003000 a 0000 | inaccessible and sparsely populated;  \n" +
        "00003200 44 a 01 melted(p) 0 000 | changed from a solid to a liquid state: \"rivers filled with melted snow\"  \n";

    public const string Adverbs =
        "00004000 02 r 01 fast 0 000 | quickly or rapidly; \"run fast!\"  \n";

    // dictd index lines "headword TAB offset TAB length", base64 digits worked out by hand:
    // entry lengths 99, 118, 93, 45 bytes -> offsets A (0), Bj (99), DZ (217), E2 (310).
    public static readonly string[] FoldocEntries =
    [
        "$1\n\n   <programming> The first {positional parameter} in\n   {shell} programming.\n\n   (2006-09-10)\n\n",
        "!!!Batch\n\n   <language, humour> A daft way of encoding\n   text, by Doug Jones <jones@cs.uiowa.edu>.\n\n   (2014-10-25)\n\n",
        "ABC\n\n   1. <computer> {Atanasoff-Berry Computer}.\n\n   2. <language> An imperative language.\n\n",
        "nodomain\n\n   An entry without a domain tag.\n\n",
    ];

    public const string FoldocIndex = "!!!batch\tBj\tB2\n$1\tA\tBj\nABC\tDZ\tBd\nabc\tDZ\tBd\nnodomain\tE2\tt\n";

    public SmallTextSources()
    {
        string wordNet = Folder("wordnet");
        File.WriteAllText(Path.Combine(wordNet, "data.noun"), Nouns);
        File.WriteAllText(Path.Combine(wordNet, "data.verb"), Verbs);
        File.WriteAllText(Path.Combine(wordNet, "data.adj"), Adjectives);
        File.WriteAllText(Path.Combine(wordNet, "data.adv"), Adverbs);

        string fortunes = Folder("fortunes");
        // English, with an empty entry, CRLF endings and a '%' on the last line.
        File.WriteAllText(Path.Combine(fortunes, "cookie"), "You will be rich.\r\n%\r\n%\r\n  \r\n%\r\nA *___\b\b\bbig* day.\r\n%\r\n");
        File.WriteAllBytes(Path.Combine(fortunes, "cookie.dat"), [0, 0, 0, 2]);
        File.CreateSymbolicLink(Path.Combine(fortunes, "cookie.u8"), "cookie");
        File.WriteAllText(Path.Combine(fortunes, "ascii-art"), "  /\\_/\\\n ( o.o )\n%\n");
        File.WriteAllText(Path.Combine(fortunes, "brasil"), "Quem tem boca vai a Roma.\n%\nÁgua mole em pedra dura\ntanto bate até que fura.");
        Directory.CreateDirectory(Path.Combine(fortunes, "off"));
        File.WriteAllText(Path.Combine(fortunes, "off", "rude"), "Rude.\n%\n");

        string german = Folder("fortunes/de");
        // Latin-1 bytes: "Grüße aus Köln" with 0xFC, 0xDF and 0xF6 (not valid UTF-8).
        File.WriteAllBytes(Path.Combine(german, "witze"),
            [.. Encoding.ASCII.GetBytes("Gr"), 0xFC, 0xDF, .. Encoding.ASCII.GetBytes("e aus K"), 0xF6, .. Encoding.ASCII.GetBytes("ln\n%\nNoch einer.\n")]);
        File.CreateSymbolicLink(Path.Combine(fortunes, "witze"), "de/witze");

        string czech = Folder("fortunes/cs");
        File.WriteAllText(Path.Combine(czech, "citace"), "Člověk má být stále zamilován.\n%\n");
        File.WriteAllText(Path.Combine(czech, "klasik-sk"), "Sklamanie je ako zmrznutá ruka.\n%\n");
        Directory.CreateSymbolicLink(Path.Combine(fortunes, "cz"), "cs");

        string foldoc = Folder("dictd");
        using (var file = File.Create(Path.Combine(foldoc, "foldoc.dict.dz")))
        using (var gzip = new GZipStream(file, CompressionLevel.Optimal))
            gzip.Write(Encoding.UTF8.GetBytes(string.Concat(FoldocEntries)));
        File.WriteAllText(Path.Combine(foldoc, "foldoc.index"), FoldocIndex);

        Sources = new TextSources(wordNet, fortunes, Path.Combine(foldoc, "foldoc.dict.dz"));
    }

    private string Folder(string relative) => Directory.CreateDirectory(Path.Combine(_dir.Path, relative)).FullName;

    public void Dispose() => _dir.Dispose();
}
