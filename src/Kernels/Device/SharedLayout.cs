using ILGPU.Runtime;
using ILGPU;

namespace Amalgam.Kernels.Device;

/// <summary>
/// Where AdaMerging's shared tensors live in flat device buffers, the layout of the host's TaskVectorStore
/// with the tensors back to back: theta0 (and theta, and gradients) of tensor l at
/// [Offset(l), Offset(l) + n_l); its K task vectors as one [K, n_l] block at K * Offset(l), so
/// tau_k,l[i] is at K * Offset(l) + k * n_l + i. Each tensor is cut into tiles of
/// <see cref="TileElements"/> (the last one shorter), tiles in tensor order; lane j of a tile handles
/// its elements j, j + <see cref="Lanes"/>, ... The tiles fix every reduction's order, whatever the
/// device and thread count.
/// </summary>
public sealed class SharedLayout : IDisposable
{
    /// <summary>Elements per tile (a multiple of <see cref="Lanes"/>).</summary>
    public const int TileElements = 4096;

    /// <summary>Lanes per tile: adjacent lanes read adjacent elements (coalesced on a GPU).</summary>
    public const int Lanes = 32;

    private readonly long[] _offsets;
    private readonly MemoryBuffer1D<long, Stride1D.Dense> _offsetsBuffer, _tileStarts;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _tileTensors, _firstTiles;

    /// <summary>Tensors of <paramref name="lengths"/> elements each, <paramref name="k"/> task vectors per tensor.</summary>
    public SharedLayout(DeviceContext device, IReadOnlyList<long> lengths, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        TensorCount = lengths.Count;
        K = k;
        _offsets = new long[lengths.Count + 1];
        var firstTiles = new int[lengths.Count + 1];
        var tileStarts = new List<long>();
        var tileTensors = new List<int>();
        for (int l = 0; l < lengths.Count; l++)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(lengths[l]);
            _offsets[l + 1] = _offsets[l] + lengths[l];
            firstTiles[l] = tileStarts.Count;
            for (long s = 0; s < lengths[l]; s += TileElements)
            {
                tileStarts.Add(_offsets[l] + s);
                tileTensors.Add(l);
            }
        }
        firstTiles[lengths.Count] = tileStarts.Count;
        TileCount = tileStarts.Count;
        try
        {
            _offsetsBuffer = device.Upload<long>(_offsets);
            _tileStarts = device.Upload<long>(tileStarts.ToArray());
            _tileTensors = device.Upload<int>(tileTensors.ToArray());
            _firstTiles = device.Upload<int>(firstTiles);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int TensorCount { get; }
    public int K { get; }
    public int TileCount { get; }

    /// <summary>Elements of one model (all shared tensors).</summary>
    public long Elements => _offsets[^1];

    public long Offset(int tensor) => _offsets[tensor];
    public long Length(int tensor) => _offsets[tensor + 1] - _offsets[tensor];

    /// <summary>Offset(l) for l = 0..L (the last is <see cref="Elements"/>).</summary>
    internal ArrayView<long> Offsets => _offsetsBuffer.View;

    /// <summary>Flat start of each tile.</summary>
    internal ArrayView<long> TileStarts => _tileStarts.View;

    /// <summary>Tensor of each tile.</summary>
    internal ArrayView<int> TileTensors => _tileTensors.View;

    /// <summary>First tile of each tensor, then <see cref="TileCount"/>.</summary>
    internal ArrayView<int> FirstTiles => _firstTiles.View;

    internal void CheckModel(ArrayView<float> view, string name)
    {
        if (view.Length != Elements) throw new ArgumentException($"{name} has {view.Length} elements, the layout {Elements}", name);
    }

    internal void CheckTaus(ArrayView<float> view, string name)
    {
        if (view.Length != Elements * K) throw new ArgumentException($"{name} has {view.Length} elements, the layout's K x {Elements} = {Elements * K}", name);
    }

    public void Dispose()
    {
        _offsetsBuffer?.Dispose();
        _tileStarts?.Dispose();
        _tileTensors?.Dispose();
        _firstTiles?.Dispose();
    }
}
