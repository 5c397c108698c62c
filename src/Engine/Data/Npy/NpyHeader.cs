using System.Globalization;
using System.Text;
using Amalgam.Kernels;

namespace Amalgam.Engine.Data.Npy;

/// <summary>
/// The header of a NumPy .npy file (numpy.lib.format, versions 1.0, 2.0 and 3.0): the magic
/// "\x93NUMPY", a version, the header length (uint16 in 1.0, uint32 after), then a Python dict
/// literal such as <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c> padded with
/// spaces and a newline so the data starts on a 64-byte boundary.
/// </summary>
public sealed record NpyHeader(DType DType, long[] Shape)
{
    /// <summary>0x93 'N' 'U' 'M' 'P' 'Y' (0x93 is a byte, not a character: "\x93"u8 would be its UTF-8 encoding).</summary>
    public static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    /// <summary>Bound on the header text; numpy itself refuses headers over 10,000 bytes by default.</summary>
    public const int MaxHeaderBytes = 1 << 16;
    public const int MaxRank = 32;

    /// <summary>The 'descr' numpy writes for <paramref name="dtype"/> (little-endian).</summary>
    public static string Descr(DType dtype) => dtype switch
    {
        DType.F32 => "<f4", DType.F64 => "<f8", DType.I64 => "<i8", DType.I32 => "<i4", DType.U8 => "|u1",
        _ => throw new ArgumentException($"dtype {dtype.ShortName()} cannot be written to .npy (supported: f32, f64, i64, i32, u8)"),
    };

    /// <summary>Parses the dict literal; <paramref name="file"/> names the file in errors.</summary>
    public static NpyHeader ParseDict(string text, string file)
    {
        var parser = new DictParser(text, file);
        var entries = parser.Parse();
        string descr = entries.TryGetValue("descr", out var d) && d is string s ? s
            : throw new BadInputException($"{file}: .npy header has no string 'descr'");
        bool fortran = entries.TryGetValue("fortran_order", out var f) && f is bool b ? b
            : throw new BadInputException($"{file}: .npy header has no boolean 'fortran_order'");
        long[] shape = entries.TryGetValue("shape", out var sh) && sh is long[] dims ? dims
            : throw new BadInputException($"{file}: .npy header has no tuple 'shape'");
        DType dtype = descr switch
        {
            "<f4" => DType.F32, "<f8" => DType.F64, "<i8" => DType.I64, "<i4" => DType.I32,
            "|u1" or "<u1" or ">u1" => DType.U8,
            _ => throw new BadInputException($"{file}: .npy dtype '{descr}' is not supported (little-endian f4, f8, i8, i4 or u1)"),
        };
        if (fortran && shape.Count(x => x != 1) > 1)
            throw new BadInputException($"{file}: .npy array is in Fortran order; save it in C order (numpy.ascontiguousarray)");
        if (!Shapes.TryElementCount(shape, out long count) || count > long.MaxValue / 8)
            throw new BadInputException($"{file}: .npy shape ({string.Join(", ", shape)}) is invalid or too large");
        return new NpyHeader(dtype, shape);
    }

    /// <summary>The dict literal numpy would write (before padding).</summary>
    public string FormatDict()
    {
        string shape = Shape.Length == 1 ? $"({Shape[0]},)" : "(" + string.Join(", ", Shape) + ")";
        return $"{{'descr': '{Descr(DType)}', 'fortran_order': False, 'shape': {shape}, }}";
    }

    /// <summary>
    /// Minimal parser for the Python literals a .npy header uses: a dict of string keys whose values
    /// are strings, True/False or tuples of integers.
    /// </summary>
    private ref struct DictParser(string text, string file)
    {
        private int _at;

        public Dictionary<string, object> Parse()
        {
            var result = new Dictionary<string, object>(StringComparer.Ordinal);
            Expect('{');
            while (true)
            {
                SkipSpace();
                if (Peek() == '}') { _at++; break; }
                string key = ParseString();
                Expect(':');
                SkipSpace();
                object value = Peek() switch
                {
                    '\'' or '"' => ParseString(),
                    '(' => ParseTuple(),
                    _ => ParseBool(),
                };
                if (!result.TryAdd(key, value)) throw Bad($"key '{key}' appears twice");
                SkipSpace();
                if (Peek() == ',') _at++;
                else if (Peek() != '}') throw Bad("expected ',' or '}'");
            }
            SkipSpace();
            if (_at != text.Length) throw Bad("unexpected text after the dict");
            return result;
        }

        private char Peek() => _at < text.Length ? text[_at] : '\0';

        private void SkipSpace() { while (_at < text.Length && char.IsWhiteSpace(text[_at])) _at++; }

        private void Expect(char c)
        {
            SkipSpace();
            if (Peek() != c) throw Bad($"expected '{c}'");
            _at++;
        }

        private string ParseString()
        {
            SkipSpace();
            char quote = Peek();
            if (quote != '\'' && quote != '"') throw Bad("expected a quoted string");
            int end = text.IndexOf(quote, _at + 1);
            if (end < 0) throw Bad("unterminated string");
            string s = text.Substring(_at + 1, end - _at - 1);
            _at = end + 1;
            return s;
        }

        private bool ParseBool()
        {
            if (string.CompareOrdinal(text, _at, "True", 0, 4) == 0) { _at += 4; return true; }
            if (string.CompareOrdinal(text, _at, "False", 0, 5) == 0) { _at += 5; return false; }
            throw Bad("expected True or False");
        }

        private long[] ParseTuple()
        {
            Expect('(');
            var dims = new List<long>();
            while (true)
            {
                SkipSpace();
                if (Peek() == ')') { _at++; return dims.ToArray(); }
                int start = _at;
                while (_at < text.Length && char.IsAsciiDigit(text[_at])) _at++;
                if (_at == start || _at - start > 18 || !long.TryParse(text.AsSpan(start, _at - start), NumberStyles.None, CultureInfo.InvariantCulture, out long dim))
                    throw Bad("expected a non-negative integer dimension");
                if (Peek() == 'L') _at++; // Python 2 long suffix
                dims.Add(dim);
                if (dims.Count > MaxRank) throw Bad($"more than {MaxRank} dimensions");
                SkipSpace();
                if (Peek() == ',') _at++;
                else if (Peek() != ')') throw Bad("expected ',' or ')' in the shape");
            }
        }

        private readonly BadInputException Bad(string what) =>
            new($"{file}: malformed .npy header at character {_at}: {what}");
    }

    internal static string DecodeHeader(ReadOnlySpan<byte> bytes, int major) =>
        major >= 3 ? Encoding.UTF8.GetString(bytes) : Encoding.Latin1.GetString(bytes);
}
