using Amalgam.Engine.Training;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// Which samples a batch takes. Each task's inputs form an endless stream of passes over its N
/// samples; batch b of task k is stream positions [b * size, (b + 1) * size), so batches wrap from one
/// pass into the next. shuffle=false: pass order = file order. shuffle=true: each pass is a new
/// permutation drawn from (seed, task, pass) only (<see cref="Shuffle"/>), so any batch can be
/// recomputed from its index alone and a resumed run needs no saved RNG state beyond the step.
/// </summary>
internal sealed class BatchSampler(int samples, int batchSize, bool shuffle, ulong seed, int task)
{
    private long _pass = -1;
    private readonly int[] _order = new int[samples];

    /// <summary>Sample indices of batch <paramref name="batch"/> (0-based, counted over the whole run) into <paramref name="indices"/>.</summary>
    public void Batch(long batch, Span<int> indices)
    {
        for (int j = 0; j < batchSize; j++)
        {
            long position = batch * batchSize + j;
            long pass = position / samples;
            int inPass = (int)(position % samples);
            indices[j] = shuffle ? Order(pass)[inPass] : inPass;
        }
    }

    private int[] Order(long pass)
    {
        if (pass == _pass) return _order;
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        ulong key = seed ^ (0x9E3779B97F4A7C15UL * (ulong)(task + 1)) ^ (0xD1B54A32D192ED03UL * (ulong)(pass + 1));
        new Shuffle(key).Permute(_order);
        _pass = pass;
        return _order;
    }
}
