namespace Amalgam.Kernels.Blas;

public static unsafe partial class Lapack
{
    /// <summary>
    /// Thin QR factorisation of the TRANSPOSE of the row-major m x n matrix A (m &lt;= n, lda &gt;= n):
    /// A^T = Q R with Q n x m with orthonormal columns and R m x m upper triangular (Householder,
    /// <c>sgeqrf</c> then <c>sorgqr</c>). Equivalently A = R^T Q^T, an LQ factorisation of A.
    /// A row-major m x n block IS the column-major n x m matrix A^T, so LAPACK works on it in place
    /// without a transpose. On return row j of <paramref name="a"/> (<c>[j * lda .. j * lda + n)</c>)
    /// is column j of Q (so the rows are orthonormal), and <paramref name="r"/> holds R row-major
    /// (m x m, ldr &gt;= m; the strictly lower triangle is set to 0). Row padding of A is not touched.
    /// R's diagonal may be negative (LAPACK's sign convention); a rank-deficient A still gives an
    /// orthonormal Q with zeros on R's diagonal.
    /// </summary>
    public static void QrOfTranspose(int m, int n, Span<float> a, int lda, Span<float> r, int ldr)
    {
        var tau = new float[Math.Max(0, m)];
        QrOfTransposeReflectors(m, n, a, lda, r, ldr, tau);
        if (m == 0) return;
        var native = OpenBlas.Native;
        int rowsF = n, colsF = m, ldF = lda, info = 0, lwork = -1;
        float workQuery = 0;
        fixed (float* pa = a)
        fixed (float* pt = tau)
        {
            native.Sorgqr(&rowsF, &colsF, &colsF, pa, &ldF, pt, &workQuery, &lwork, &info);
            if (info != 0) throw LapackException.IllegalArgument("sorgqr", info);
            lwork = NativeWorkspace.QueriedSize(workQuery, Math.Max(1, colsF));
            using var ws = new NativeWorkspace([lwork], []);
            native.Sorgqr(&rowsF, &colsF, &colsF, pa, &ldF, pt, ws.Floats(lwork), &lwork, &info);
        }
        if (info != 0) throw LapackException.IllegalArgument("sorgqr", info);
    }

    /// <summary>
    /// Like <see cref="QrOfTranspose"/> but leaves Q implicit (<c>sgeqrf</c> only): R goes to
    /// <paramref name="r"/>, and <paramref name="a"/> and <paramref name="tau"/> (m floats) hold the
    /// Householder reflectors that <see cref="MultiplyByQOfTranspose"/> applies. Cheaper when only
    /// a few vectors Q v are needed.
    /// </summary>
    public static void QrOfTransposeReflectors(int m, int n, Span<float> a, int lda, Span<float> r, int ldr, Span<float> tau)
    {
        if (tau.Length < m) throw new ArgumentException($"tau needs {m} floats but has {tau.Length}", nameof(tau));
        MatrixArgs.NoOverlap(a, tau, nameof(a), nameof(tau));
        MatrixArgs.Check(nameof(a), a.Length, m, n, lda);
        MatrixArgs.Check(nameof(r), r.Length, m, m, ldr);
        if (m > n) throw new ArgumentException($"QrOfTranspose needs at most as many rows as columns (A is {m}x{n})", nameof(m));
        MatrixArgs.NoOverlap(a, r, nameof(a), nameof(r));
        MatrixArgs.CheckFinite(nameof(a), a, m, n, lda);
        var native = OpenBlas.Native;
        if (m == 0) return;

        // Column-major view: A^T is rows = n, cols = m, leading dimension lda.
        int rowsF = n, colsF = m, ldF = lda, info = 0, lwork = -1;
        float workQuery = 0;
        fixed (float* pa = a)
        fixed (float* pr = r)
        fixed (float* pt = tau)
        {
            native.Sgeqrf(&rowsF, &colsF, pa, &ldF, pt, &workQuery, &lwork, &info);
            if (info != 0) throw LapackException.IllegalArgument("sgeqrf", info);
            lwork = NativeWorkspace.QueriedSize(workQuery, Math.Max(1, colsF));
            using (var ws = new NativeWorkspace([lwork], []))
            {
                native.Sgeqrf(&rowsF, &colsF, pa, &ldF, pt, ws.Floats(lwork), &lwork, &info);
            }
            if (info != 0) throw LapackException.IllegalArgument("sgeqrf", info);

            // R is the upper triangle of the column-major result: R(i, j) = a[j * lda + i], i <= j.
            for (int i = 0; i < m; i++)
            {
                float* row = pr + (long)i * ldr;
                for (int j = 0; j < i; j++) row[j] = 0f;
                for (int j = i; j < m; j++) row[j] = pa[(long)j * lda + i];
            }
        }
    }

    /// <summary>
    /// Rows of <paramref name="v"/> (count x m, row-major, ldv &gt;= m) times Q^T, i.e. each row v
    /// becomes (Q v)^T of length n, written as rows of <paramref name="result"/> (count x n,
    /// ldResult &gt;= n), with Q the implicit thin Q of <see cref="QrOfTransposeReflectors"/> (its
    /// <paramref name="reflectors"/>, lda, <paramref name="tau"/>). Uses <c>sormqr</c>: a row-major
    /// count x n block is the column-major n x count matrix C, and C = Q [V^T; 0].
    /// </summary>
    public static void MultiplyByQOfTranspose(int m, int n, ReadOnlySpan<float> reflectors, int lda, ReadOnlySpan<float> tau,
        int count, ReadOnlySpan<float> v, int ldv, Span<float> result, int ldResult)
    {
        MatrixArgs.Check(nameof(reflectors), reflectors.Length, m, n, lda);
        MatrixArgs.Check(nameof(v), v.Length, count, m, ldv);
        MatrixArgs.Check(nameof(result), result.Length, count, n, ldResult);
        if (m > n) throw new ArgumentException($"Q of a {m}x{n} A^T needs m <= n", nameof(m));
        if (tau.Length < m) throw new ArgumentException($"tau needs {m} floats but has {tau.Length}", nameof(tau));
        MatrixArgs.NoOverlap(reflectors, result, nameof(reflectors), nameof(result));
        MatrixArgs.NoOverlap(v, result, nameof(v), nameof(result));
        var native = OpenBlas.Native;
        if (count == 0 || n == 0) return;
        for (int j = 0; j < count; j++)
        {
            v.Slice(j * ldv, m).CopyTo(result.Slice(j * ldResult, m));
            result.Slice(j * ldResult + m, n - m).Clear();
        }
        if (m == 0) return;
        byte side = (byte)'L', trans = (byte)'N';
        int rowsC = n, colsC = count, k = m, ldA = lda, ldC = ldResult, info = 0, lwork = -1;
        float workQuery = 0;
        fixed (float* pa = reflectors)
        fixed (float* pt = tau)
        fixed (float* pc = result)
        {
            native.Sormqr(&side, &trans, &rowsC, &colsC, &k, pa, &ldA, pt, pc, &ldC, &workQuery, &lwork, &info, 1, 1);
            if (info != 0) throw LapackException.IllegalArgument("sormqr", info);
            lwork = NativeWorkspace.QueriedSize(workQuery, Math.Max(1, colsC));
            using var ws = new NativeWorkspace([lwork], []);
            native.Sormqr(&side, &trans, &rowsC, &colsC, &k, pa, &ldA, pt, pc, &ldC, ws.Floats(lwork), &lwork, &info, 1, 1);
        }
        if (info != 0) throw LapackException.IllegalArgument("sormqr", info);
    }
}
