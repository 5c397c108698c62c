using System.Runtime.InteropServices;
using Amalgam.Kernels.Merge;

namespace Amalgam.Kernels.Tests.Merge;

internal static class MergeTestData
{
    public static readonly int[] Lengths = [0, 1, 7, 15, 16, 17, 63, 1000, 4099];

    public static float[] Uniform(System.Random rng, int n, double scale = 1) =>
        Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();

    /// <summary>Multiples of 1/4 in [-2, 2]: sums of a few are exact in float, and zeros and ties are common.</summary>
    public static float[] Grid(System.Random rng, int n) =>
        Enumerable.Range(0, n).Select(_ => rng.Next(-8, 9) * 0.25f).ToArray();

    public static float[] Stack(float[][] tiles) => tiles.SelectMany(t => t).ToArray();

    /// <summary>Calls <paramref name="run"/> with a TileSet over pinned copies of the tiles, addressed by pointer.</summary>
    public static unsafe void WithPointers(float[][] tiles, TileSetAction run)
    {
        var handles = tiles.Select(t => GCHandle.Alloc(t, GCHandleType.Pinned)).ToArray();
        try
        {
            var pointers = handles.Select(h => h.AddrOfPinnedObject()).ToArray();
            run(new TileSet(pointers, tiles.Length == 0 ? 0 : tiles[0].Length));
        }
        finally
        {
            foreach (var h in handles) h.Free();
        }
    }

    public delegate void TileSetAction(TileSet set);

    public static List<(int Start, int Length)> RandomSplits(int n, int seed) => Selection.SelectionData.RandomSplits(n, seed);
}
