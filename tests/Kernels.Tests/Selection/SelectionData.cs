namespace Amalgam.Kernels.Tests.Selection;

/// <summary>Test data with the cases selection gets wrong: ties, zeros of both signs, denormals, infinities.</summary>
internal static class SelectionData
{
    public static readonly string[] Kinds = ["normal", "ties", "denormal", "wide"];

    public static float[] Make(string kind, int n, int seed)
    {
        var rng = new System.Random(seed);
        float[] ties = [-2f, -1f, -0.5f, 0f, -0f, 0.5f, 1f, 2f];
        return Enumerable.Range(0, n).Select(_ => kind switch
        {
            "normal" => (float)(Gaussian(rng) * Math.Pow(10, rng.Next(-3, 3))),
            "ties" => ties[rng.Next(ties.Length)],
            "denormal" => rng.Next(4) switch
            {
                0 => 0f,
                1 => -0f,
                2 => BitConverter.UInt32BitsToSingle((uint)rng.Next(1, 0x80_0000) | (rng.Next(2) == 0 ? 0u : 0x8000_0000u)),
                _ => BitConverter.UInt32BitsToSingle((uint)rng.Next(1, 40)), // tiny denormals: many ties
            },
            "wide" => WideValue(rng),
            _ => throw new ArgumentException(kind),
        }).ToArray();
    }

    private static float WideValue(System.Random rng)
    {
        while (true)
        {
            float v = BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32));
            if (!float.IsNaN(v)) return v;
        }
    }

    private static double Gaussian(System.Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>|x| bit patterns sorted descending (the reference order statistics).</summary>
    public static uint[] MagnitudesDescending(float[] x) =>
        x.Select(v => BitConverter.SingleToUInt32Bits(MathF.Abs(v))).OrderByDescending(a => a).ToArray();

    /// <summary>Indices in rank order: larger |x| first, then lower index first (full sort, the reference).</summary>
    public static int[] RankOrder(float[] x) =>
        Enumerable.Range(0, x.Length).OrderByDescending(i => MathF.Abs(x[i])).ThenBy(i => i).ToArray();

    /// <summary>Splits [0, n) into random consecutive pieces (some empty).</summary>
    public static List<(int Start, int Length)> RandomSplits(int n, int seed)
    {
        var rng = new System.Random(seed);
        var pieces = new List<(int, int)>();
        for (int at = 0; at < n;)
        {
            int len = Math.Min(n - at, rng.Next(0, Math.Max(2, n / 5)));
            pieces.Add((at, len));
            at += len;
        }
        return pieces;
    }
}
