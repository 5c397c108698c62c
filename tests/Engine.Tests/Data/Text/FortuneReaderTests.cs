using System.Text;
using Amalgam.Engine.Data.Text;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Data.Text;

/// <summary>
/// The fortune reader on the real files (fortunes, fortunes-ga, fortunes-eo, ...) and on
/// hand-written ones. Real entries were read by hand: sed -n 1,3p ga/proverbs, grep -n -B4 'whiter
/// teeth' art (entry 36 of art, index 35, has "*___^H^H^Hand*"), tail -4 zippy.
/// </summary>
public class FortuneReaderTests
{
    private const string Real = "/usr/share/games/fortunes";

    [Test]
    public void IrishProverbsStartAndEndWithTheEntriesSeenByHand()
    {
        var entries = FortuneReader.ReadEntries(Path.Combine(Real, "ga", "proverbs"));
        Assert.That(entries, Has.Count.EqualTo(157));   // 158 '%' lines, the last one closes the file
        Assert.That(entries[0], Is.EqualTo("Is fearr rith maith ná droch sheasamh."));
        Assert.That(entries[^1], Is.EqualTo("Tá Búrcach ar Bhúrcach na luaithrigh,\nach níl ach Búrcach ar an mBúrcach is uaisle."));
    }

    [Test]
    public void OverstrikeInArtIsShownAsATerminalWould()
    {
        var entries = FortuneReader.ReadEntries(Path.Combine(Real, "art"));
        Assert.That(entries, Has.Count.EqualTo(465));
        Assert.That(entries[35], Does.Contain("whiter teeth *and* fresher breath.").And.Not.Contain("\b"));
        Assert.That(entries[35], Does.EndWith("-- Dave Barry, \"Kids Today: They Don't Know Dum Diddly Do\""));
    }

    [Test]
    public void EsperantoProverbsAreUtf8()
    {
        var entries = FortuneReader.ReadEntries(Path.Combine(Real, "eo", "proverbaro"));
        Assert.That(entries, Has.Count.EqualTo(2626));
        Assert.That(entries[0], Is.EqualTo("Abelujon ne incitu, amason ne spitu"));
        Assert.That(entries[^1], Is.EqualTo("Zorgu vivon vian kaj lasu vivi alian"));
    }

    [Test]
    public void RealFolderGivesNineLanguagesWithoutLinksOrOffensiveFiles()
    {
        var files = FortuneFiles.Discover(Real);
        Assert.That(files.Select(f => f.Language).Distinct(), Is.EquivalentTo(FortuneFiles.Languages.Select(l => l.Language)));
        Assert.That(files, Does.Contain(new FortuneFile("English", "zippy")));
        Assert.That(files, Does.Contain(new FortuneFile("Portuguese", "brasil")));
        Assert.That(files, Does.Contain(new FortuneFile("Italian", "it/adams")));
        Assert.That(files, Does.Contain(new FortuneFile("Spanish", "es/varios.fortunes")));
        // adams -> it/adams is a link; cz/ links into cs/; es/off is offensive; .u8 and .dat are not fortunes.
        Assert.That(files.Select(f => f.RelativePath), Has.None.EqualTo("adams").And.None.StartWith("cz/")
            .And.None.StartWith("es/off").And.None.EndWith(".u8").And.None.EndWith(".dat")
            .And.None.EqualTo("cs/klasik-sk").And.None.EqualTo("ascii-art"));
        Assert.That(files.Count(f => f.Language == "Irish"), Is.EqualTo(1));
    }

    [Test]
    public void HandWrittenFileDropsEmptyEntriesAndTheClosingPercent()
    {
        using var small = new SmallTextSources();
        var entries = FortuneReader.ReadEntries(Path.Combine(small.Sources.FortunesDir, "cookie"));
        Assert.That(entries, Is.EqualTo(new[] { "You will be rich.", "A *big* day." }));
        var lastWithoutPercent = FortuneReader.ReadEntries(Path.Combine(small.Sources.FortunesDir, "brasil"));
        Assert.That(lastWithoutPercent, Is.EqualTo(new[] { "Quem tem boca vai a Roma.", "Água mole em pedra dura\ntanto bate até que fura." }));
    }

    [Test]
    public void Latin1FileIsDecodedAsLatin1()
    {
        using var small = new SmallTextSources();
        var entries = FortuneReader.ReadEntries(Path.Combine(small.Sources.FortunesDir, "de", "witze"));
        Assert.That(entries, Is.EqualTo(new[] { "Grüße aus Köln", "Noch einer." }));
        Assert.That(FortuneReader.Decode([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("Ähre")]), Is.EqualTo("Ähre"));
    }

    [Test]
    public void HandWrittenFolderSkipsLinksDatU8OffSlovakAndAsciiArt()
    {
        using var small = new SmallTextSources();
        Assert.That(FortuneFiles.Discover(small.Sources.FortunesDir), Is.EqualTo(new[]
        {
            new FortuneFile("Portuguese", "brasil"),
            new FortuneFile("English", "cookie"),
            new FortuneFile("Czech", "cs/citace"),
            new FortuneFile("German", "de/witze"),
        }));
    }

    [Test]
    public void MissingFileOrFolderNamesIt()
    {
        var e = Assert.Throws<BadInputException>(() => FortuneReader.ReadEntries("/no/such/fortune"))!;
        Assert.That(e.Message, Does.Contain("/no/such/fortune"));
        e = Assert.Throws<BadInputException>(() => FortuneFiles.Discover("/no/such/fortunes"))!;
        Assert.That(e.Message, Does.Contain("/no/such/fortunes"));
    }
}
