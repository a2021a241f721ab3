;; fedleak's WebAssembly SIMD kernels, loaded by ../wasm-gemm.ts: gemm, im2col and col2im (the
;; cpu convolutions), binary (elementwise arithmetic) and the fused kernels of ../fused.ts.
;; Rebuild with ./build.sh.
;; All offsets and strides are in f32 elements; pointers are element indices into memory.
;;
;; gemm:
;;   C[i, 4j .. 4j+3] = Σ_{k < K} A[i·sai + k·sak] · B[k·ldb + 4j .. 4j+3]
;;
;; A is read one scalar at a time (splatted), so any strides work: row-major A, or A transposed.
;; B rows and C rows are read/written as f32x4 blocks; the caller pads their widths to multiples
;; of 4. K must be a multiple of 4: the k loop is unrolled by 4 into four independent
;; accumulators so that the f32x4 adds do not wait on one another.
(module
  (memory (export "memory") 1)
  (func (export "gemm")
    (param $a i32) (param $sai i32) (param $sak i32)
    (param $b i32) (param $ldb i32)
    (param $c i32) (param $ldc i32)
    (param $m i32) (param $nb i32) (param $k i32)
    (local $i i32) (local $j i32) (local $kk i32)
    (local $arow i32) (local $ap i32) (local $bp i32) (local $crow i32)
    (local $sak4 i32) (local $ldb4 i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    ;; element counts → bytes
    (local.set $a (i32.shl (local.get $a) (i32.const 2)))
    (local.set $b (i32.shl (local.get $b) (i32.const 2)))
    (local.set $c (i32.shl (local.get $c) (i32.const 2)))
    (local.set $sai (i32.shl (local.get $sai) (i32.const 2)))
    (local.set $sak (i32.shl (local.get $sak) (i32.const 2)))
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $sak4 (i32.shl (local.get $sak) (i32.const 2)))
    (local.set $ldb4 (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done_i
      (loop $loop_i
        (br_if $done_i (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $arow (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sai))))
        (local.set $crow (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (local.set $j (i32.const 0))
        ;; Three column blocks at a time: one splatted A value feeds three f32x4 products, and
        ;; the three accumulators are independent chains.
        (block $done_j3
          (loop $loop_j3
            (br_if $done_j3 (i32.gt_u (i32.add (local.get $j) (i32.const 3)) (local.get $nb)))
            (local.set $acc0 (v128.const i32x4 0 0 0 0))
            (local.set $acc1 (v128.const i32x4 0 0 0 0))
            (local.set $acc2 (v128.const i32x4 0 0 0 0))
            (local.set $ap (local.get $arow))
            (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 4))))
            (local.set $kk (local.get $k))
            (block $done_k3
              (loop $loop_k3
                (br_if $done_k3 (i32.eqz (local.get $kk)))
                (local.set $acc3 (v128.load32_splat (local.get $ap)))
                (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $acc3) (v128.load (local.get $bp)))))
                (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $acc3) (v128.load offset=16 (local.get $bp)))))
                (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $acc3) (v128.load offset=32 (local.get $bp)))))
                (local.set $ap (i32.add (local.get $ap) (local.get $sak)))
                (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
                (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
                (br $loop_k3)))
            (v128.store (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 4))) (local.get $acc0))
            (v128.store offset=16 (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 4))) (local.get $acc1))
            (v128.store offset=32 (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 4))) (local.get $acc2))
            (local.set $j (i32.add (local.get $j) (i32.const 3)))
            (br $loop_j3)))
        ;; Remaining blocks one at a time, k unrolled by four.
        (block $done_j
          (loop $loop_j
            (br_if $done_j (i32.ge_u (local.get $j) (local.get $nb)))
            (local.set $acc0 (v128.const i32x4 0 0 0 0))
            (local.set $acc1 (v128.const i32x4 0 0 0 0))
            (local.set $acc2 (v128.const i32x4 0 0 0 0))
            (local.set $acc3 (v128.const i32x4 0 0 0 0))
            (local.set $ap (local.get $arow))
            (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 4))))
            (local.set $kk (local.get $k))
            (block $done_k
              (loop $loop_k
                (br_if $done_k (i32.eqz (local.get $kk)))
                (local.set $acc0 (f32x4.add (local.get $acc0)
                  (f32x4.mul (v128.load32_splat (local.get $ap)) (v128.load (local.get $bp)))))
                (local.set $acc1 (f32x4.add (local.get $acc1)
                  (f32x4.mul (v128.load32_splat (i32.add (local.get $ap) (local.get $sak)))
                             (v128.load (i32.add (local.get $bp) (local.get $ldb))))))
                (local.set $acc2 (f32x4.add (local.get $acc2)
                  (f32x4.mul (v128.load32_splat (i32.add (local.get $ap) (i32.shl (local.get $sak) (i32.const 1))))
                             (v128.load (i32.add (local.get $bp) (i32.shl (local.get $ldb) (i32.const 1)))))))
                (local.set $acc3 (f32x4.add (local.get $acc3)
                  (f32x4.mul (v128.load32_splat (i32.sub (i32.add (local.get $ap) (local.get $sak4)) (local.get $sak)))
                             (v128.load (i32.sub (i32.add (local.get $bp) (local.get $ldb4)) (local.get $ldb))))))
                (local.set $ap (i32.add (local.get $ap) (local.get $sak4)))
                (local.set $bp (i32.add (local.get $bp) (local.get $ldb4)))
                (local.set $kk (i32.sub (local.get $kk) (i32.const 4)))
                (br $loop_k)))
            (v128.store
              (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 4)))
              (f32x4.add (f32x4.add (local.get $acc0) (local.get $acc1)) (f32x4.add (local.get $acc2) (local.get $acc3))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $loop_j)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $loop_i))))

  ;; gemm_rows: the same product for a small K (e.g. the 12 output channels of an input-gradient
  ;; GEMM), row by row: C[i, :] = Σ_k A[i·sai + k·sak] · B[k·ldb + :]. Four k at a time: four
  ;; splatted A values are applied to four B rows per load/store of the C block. No constraint on K.
  (func (export "gemm_rows")
    (param $a i32) (param $sai i32) (param $sak i32)
    (param $b i32) (param $ldb i32)
    (param $c i32) (param $ldc i32)
    (param $m i32) (param $nb i32) (param $k i32)
    (local $i i32) (local $j i32) (local $kk i32) (local $arow i32)
    (local $crow i32) (local $cp i32) (local $bp i32)
    (local $av0 v128) (local $av1 v128) (local $av2 v128) (local $av3 v128)
    (local.set $a (i32.shl (local.get $a) (i32.const 2)))
    (local.set $b (i32.shl (local.get $b) (i32.const 2)))
    (local.set $c (i32.shl (local.get $c) (i32.const 2)))
    (local.set $sai (i32.shl (local.get $sai) (i32.const 2)))
    (local.set $sak (i32.shl (local.get $sak) (i32.const 2)))
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done_i
      (loop $loop_i
        (br_if $done_i (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $crow (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (local.set $arow (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sai))))
        (memory.fill (local.get $crow) (i32.const 0) (i32.shl (local.get $nb) (i32.const 4)))
        (local.set $kk (i32.const 0))
        (block $done_k4
          (loop $loop_k4
            (br_if $done_k4 (i32.gt_u (i32.add (local.get $kk) (i32.const 4)) (local.get $k)))
            (local.set $av0 (v128.load32_splat (i32.add (local.get $arow) (i32.mul (local.get $kk) (local.get $sak)))))
            (local.set $av1 (v128.load32_splat (i32.add (local.get $arow) (i32.mul (i32.add (local.get $kk) (i32.const 1)) (local.get $sak)))))
            (local.set $av2 (v128.load32_splat (i32.add (local.get $arow) (i32.mul (i32.add (local.get $kk) (i32.const 2)) (local.get $sak)))))
            (local.set $av3 (v128.load32_splat (i32.add (local.get $arow) (i32.mul (i32.add (local.get $kk) (i32.const 3)) (local.get $sak)))))
            (local.set $bp (i32.add (local.get $b) (i32.mul (local.get $kk) (local.get $ldb))))
            (local.set $cp (local.get $crow))
            (local.set $j (local.get $nb))
            (block $done_j4
              (loop $loop_j4
                (br_if $done_j4 (i32.eqz (local.get $j)))
                (v128.store (local.get $cp)
                  (f32x4.add
                    (f32x4.add (v128.load (local.get $cp))
                      (f32x4.add (f32x4.mul (local.get $av0) (v128.load (local.get $bp)))
                                 (f32x4.mul (local.get $av1) (v128.load (i32.add (local.get $bp) (local.get $ldb))))))
                    (f32x4.add (f32x4.mul (local.get $av2) (v128.load (i32.add (local.get $bp) (i32.shl (local.get $ldb) (i32.const 1)))))
                               (f32x4.mul (local.get $av3) (v128.load (i32.add (local.get $bp) (i32.mul (local.get $ldb) (i32.const 3))))))))
                (local.set $cp (i32.add (local.get $cp) (i32.const 16)))
                (local.set $bp (i32.add (local.get $bp) (i32.const 16)))
                (local.set $j (i32.sub (local.get $j) (i32.const 1)))
                (br $loop_j4)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 4)))
            (br $loop_k4)))
        (block $done_k
          (loop $loop_k
            (br_if $done_k (i32.ge_u (local.get $kk) (local.get $k)))
            (local.set $av0 (v128.load32_splat (i32.add (local.get $arow) (i32.mul (local.get $kk) (local.get $sak)))))
            (local.set $bp (i32.add (local.get $b) (i32.mul (local.get $kk) (local.get $ldb))))
            (local.set $cp (local.get $crow))
            (local.set $j (local.get $nb))
            (block $done_j
              (loop $loop_j
                (br_if $done_j (i32.eqz (local.get $j)))
                (v128.store (local.get $cp)
                  (f32x4.add (v128.load (local.get $cp)) (f32x4.mul (local.get $av0) (v128.load (local.get $bp)))))
                (local.set $cp (i32.add (local.get $cp) (i32.const 16)))
                (local.set $bp (i32.add (local.get $bp) (i32.const 16)))
                (local.set $j (i32.sub (local.get $j) (i32.const 1)))
                (br $loop_j)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
            (br $loop_k)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $loop_i))))

  ;; im2col: for every output pixel (b, oy, ox), its receptive field as one row of length kp
  ;; (zeros where padded, and for the columns ≥ fh·fw·inC) at dst. x is NHWC.
  (func (export "im2col")
    (param $x i32) (param $batch i32) (param $inH i32) (param $inW i32) (param $inC i32)
    (param $outH i32) (param $outW i32) (param $fh i32) (param $fw i32)
    (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (param $dst i32) (param $kp i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $ky i32) (local $kx i32)
    (local $iy i32) (local $ix i32) (local $iy0 i32) (local $ix0 i32)
    (local $row i32) (local $q i32) (local $cb i32) (local $rowb i32) (local $interior i32)
    (local $src i32)
    (local.set $cb (i32.shl (local.get $inC) (i32.const 2)))
    (local.set $rowb (i32.mul (local.get $cb) (local.get $fw)))
    (local.set $row (i32.shl (local.get $dst) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $done_b (loop $loop_b
      (br_if $done_b (i32.ge_s (local.get $b) (local.get $batch)))
      (local.set $oy (i32.const 0))
      (block $done_oy (loop $loop_oy
        (br_if $done_oy (i32.ge_s (local.get $oy) (local.get $outH)))
        (local.set $iy0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
        (local.set $ox (i32.const 0))
        (block $done_ox (loop $loop_ox
          (br_if $done_ox (i32.ge_s (local.get $ox) (local.get $outW)))
          (local.set $ix0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
          (local.set $interior (i32.and
            (i32.ge_s (local.get $ix0) (i32.const 0))
            (i32.le_s (i32.add (local.get $ix0) (local.get $fw)) (local.get $inW))))
          (local.set $q (local.get $row))
          (local.set $ky (i32.const 0))
          (block $done_ky (loop $loop_ky
            (br_if $done_ky (i32.ge_s (local.get $ky) (local.get $fh)))
            (local.set $iy (i32.add (local.get $iy0) (local.get $ky)))
            (if (i32.or (i32.lt_s (local.get $iy) (i32.const 0)) (i32.ge_s (local.get $iy) (local.get $inH)))
              (then
                (memory.fill (local.get $q) (i32.const 0) (local.get $rowb))
                (local.set $q (i32.add (local.get $q) (local.get $rowb))))
              (else
                (if (local.get $interior)
                  (then
                    (local.set $src (i32.shl
                      (i32.add (local.get $x)
                        (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $inH)) (local.get $iy)) (local.get $inW)) (local.get $ix0)) (local.get $inC)))
                      (i32.const 2)))
                    (memory.copy (local.get $q) (local.get $src) (local.get $rowb))
                    (local.set $q (i32.add (local.get $q) (local.get $rowb))))
                  (else
                    (local.set $kx (i32.const 0))
                    (block $done_kx (loop $loop_kx
                      (br_if $done_kx (i32.ge_s (local.get $kx) (local.get $fw)))
                      (local.set $ix (i32.add (local.get $ix0) (local.get $kx)))
                      (if (i32.or (i32.lt_s (local.get $ix) (i32.const 0)) (i32.ge_s (local.get $ix) (local.get $inW)))
                        (then (memory.fill (local.get $q) (i32.const 0) (local.get $cb)))
                        (else
                          (local.set $src (i32.shl
                            (i32.add (local.get $x)
                              (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $inH)) (local.get $iy)) (local.get $inW)) (local.get $ix)) (local.get $inC)))
                            (i32.const 2)))
                          (memory.copy (local.get $q) (local.get $src) (local.get $cb))))
                      (local.set $q (i32.add (local.get $q) (local.get $cb)))
                      (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                      (br $loop_kx)))))))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $loop_ky)))
          ;; zero the padding columns up to kp
          (local.set $row (i32.add (local.get $row) (i32.shl (local.get $kp) (i32.const 2))))
          (memory.fill (local.get $q) (i32.const 0) (i32.sub (local.get $row) (local.get $q)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $loop_ox)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $loop_oy)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $loop_b))))

  ;; col2im: dx (NHWC, zeroed here) = Σ over output pixels of their column (rows of length kp at
  ;; col) scattered back onto the receptive field; the adjoint of im2col.
  (func (export "col2im")
    (param $col i32) (param $batch i32) (param $inH i32) (param $inW i32) (param $inC i32)
    (param $outH i32) (param $outW i32) (param $fh i32) (param $fw i32)
    (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (param $dx i32) (param $kp i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $ky i32) (local $kx i32)
    (local $iy i32) (local $ix i32) (local $iy0 i32) (local $ix0 i32)
    (local $row i32) (local $q i32) (local $d i32) (local $c i32) (local $c4 i32)
    (local.set $col (i32.shl (local.get $col) (i32.const 2)))
    (local.set $dx (i32.shl (local.get $dx) (i32.const 2)))
    (memory.fill (local.get $dx) (i32.const 0)
      (i32.shl (i32.mul (i32.mul (local.get $batch) (local.get $inH)) (i32.mul (local.get $inW) (local.get $inC))) (i32.const 2)))
    (local.set $c4 (i32.and (local.get $inC) (i32.const -4)))
    (local.set $row (local.get $col))
    (local.set $b (i32.const 0))
    (block $done_b (loop $loop_b
      (br_if $done_b (i32.ge_s (local.get $b) (local.get $batch)))
      (local.set $oy (i32.const 0))
      (block $done_oy (loop $loop_oy
        (br_if $done_oy (i32.ge_s (local.get $oy) (local.get $outH)))
        (local.set $iy0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
        (local.set $ox (i32.const 0))
        (block $done_ox (loop $loop_ox
          (br_if $done_ox (i32.ge_s (local.get $ox) (local.get $outW)))
          (local.set $ix0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
          (local.set $ky (i32.const 0))
          (block $done_ky (loop $loop_ky
            (br_if $done_ky (i32.ge_s (local.get $ky) (local.get $fh)))
            (local.set $iy (i32.add (local.get $iy0) (local.get $ky)))
            (if (i32.and (i32.ge_s (local.get $iy) (i32.const 0)) (i32.lt_s (local.get $iy) (local.get $inH)))
              (then
                (local.set $kx (i32.const 0))
                (block $done_kx (loop $loop_kx
                  (br_if $done_kx (i32.ge_s (local.get $kx) (local.get $fw)))
                  (local.set $ix (i32.add (local.get $ix0) (local.get $kx)))
                  (if (i32.and (i32.ge_s (local.get $ix) (i32.const 0)) (i32.lt_s (local.get $ix) (local.get $inW)))
                    (then
                      (local.set $d (i32.add (local.get $dx) (i32.shl
                        (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $inH)) (local.get $iy)) (local.get $inW)) (local.get $ix)) (local.get $inC))
                        (i32.const 2))))
                      (local.set $q (i32.add (local.get $row) (i32.shl
                        (i32.mul (i32.add (i32.mul (local.get $ky) (local.get $fw)) (local.get $kx)) (local.get $inC))
                        (i32.const 2))))
                      (local.set $c (i32.const 0))
                      (block $done_c4 (loop $loop_c4
                        (br_if $done_c4 (i32.ge_s (local.get $c) (local.get $c4)))
                        (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (v128.load (local.get $q))))
                        (local.set $d (i32.add (local.get $d) (i32.const 16)))
                        (local.set $q (i32.add (local.get $q) (i32.const 16)))
                        (local.set $c (i32.add (local.get $c) (i32.const 4)))
                        (br $loop_c4)))
                      (block $done_c (loop $loop_c
                        (br_if $done_c (i32.ge_s (local.get $c) (local.get $inC)))
                        (f32.store (local.get $d) (f32.add (f32.load (local.get $d)) (f32.load (local.get $q))))
                        (local.set $d (i32.add (local.get $d) (i32.const 4)))
                        (local.set $q (i32.add (local.get $q) (i32.const 4)))
                        (local.set $c (i32.add (local.get $c) (i32.const 1)))
                        (br $loop_c)))))
                  (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                  (br $loop_kx)))))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $loop_ky)))
          (local.set $row (i32.add (local.get $row) (i32.shl (local.get $kp) (i32.const 2))))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $loop_ox)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $loop_oy)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $loop_b))))

  ;; Elementwise out[i] = a[i] OP b[i] for i < n. mode 0: both operands full length; mode 1: b is
  ;; one scalar b[0]; mode 2: a is one scalar a[0]. op: 0 add, 1 sub, 2 mul, 3 div,
  ;; 4 squared difference. Pointers are element indices. Four lanes at a time, then a scalar tail.
  (func (export "binary")
    (param $op i32) (param $mode i32) (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $i i32) (local $n4 i32) (local $va v128) (local $vb v128) (local $d v128)
    (local $sa f32) (local $sb f32) (local $s f32)
    (local.set $a (i32.shl (local.get $a) (i32.const 2)))
    (local.set $b (i32.shl (local.get $b) (i32.const 2)))
    (local.set $out (i32.shl (local.get $out) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $va (v128.load32_splat (local.get $a)))
    (local.set $vb (v128.load32_splat (local.get $b)))
    (local.set $sa (f32.load (local.get $a)))
    (local.set $sb (f32.load (local.get $b)))
    (if (i32.and (i32.eq (local.get $op) (i32.const 0)) (i32.eq (local.get $mode) (i32.const 0)))
      (then
        (local.set $i (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
          (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.add (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (v128.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.add (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $s_loop)))
        (return)))
    (if (i32.and (i32.eq (local.get $op) (i32.const 0)) (i32.eq (local.get $mode) (i32.const 1)))
      (then
        (local.set $i (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
          (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.add (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (local.get $vb)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.add (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (local.get $sb)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $s_loop)))
        (return)))
    (if (i32.and (i32.eq (local.get $op) (i32.const 0)) (i32.eq (local.get $mode) (i32.const 2)))
      (then
        (local.set $i (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
          (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.add (local.get $va) (v128.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.add (local.get $sa) (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $s_loop)))
        (return)))
    (if (i32.and (i32.eq (local.get $op) (i32.const 1)) (i32.eq (local.get $mode) (i32.const 0)))
      (then
        (local.set $i (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
          (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.sub (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (v128.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.sub (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $s_loop)))
        (return)))
    (if (i32.and (i32.eq (local.get $op) (i32.const 1)) (i32.eq (local.get $mode) (i32.const 1)))
      (then
        (local.set $i (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
          (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.sub (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (local.get $vb)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.sub (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (local.get $sb)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $s_loop)))
        (return)))
    (if (i32.and (i32.eq (local.get $op) (i32.const 1)) (i32.eq (local.get $mode) (i32.const 2)))
      (then
        (local.set $i (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
          (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.sub (local.get $va) (v128.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.sub (local.get $sa) (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $s_loop)))
        (return)))
    (if (i32.and (i32.eq (local.get $op) (i32.const 2)) (i32.eq (local.get $mode) (i32.const 0)))
      (then
        (local.set $i (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
          (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.mul (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (v128.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.mul (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $s_loop)))
        (return)))
    (if (i32.and (i32.eq (local.get $op) (i32.const 2)) (i32.eq (local.get $mode) (i32.const 1)))
      (then
        (local.set $i (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
          (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.mul (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (local.get $vb)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.mul (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (local.get $sb)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $s_loop)))
        (return)))
    (if (i32.and (i32.eq (local.get $op) (i32.const 2)) (i32.eq (local.get $mode) (i32.const 2)))
      (then
        (local.set $i (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
          (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.mul (local.get $va) (v128.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.mul (local.get $sa) (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $s_loop)))
        (return)))
    (if (i32.and (i32.eq (local.get $op) (i32.const 3)) (i32.eq (local.get $mode) (i32.const 0)))
      (then
        (local.set $i (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
          (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.div (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (v128.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.div (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $s_loop)))
        (return)))
    (if (i32.and (i32.eq (local.get $op) (i32.const 3)) (i32.eq (local.get $mode) (i32.const 1)))
      (then
        (local.set $i (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
          (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.div (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (local.get $vb)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.div (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (local.get $sb)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $s_loop)))
        (return)))
    (if (i32.and (i32.eq (local.get $op) (i32.const 3)) (i32.eq (local.get $mode) (i32.const 2)))
      (then
        (local.set $i (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
          (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.div (local.get $va) (v128.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.div (local.get $sa) (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $s_loop)))
        (return)))
    (if (i32.and (i32.eq (local.get $op) (i32.const 4)) (i32.eq (local.get $mode) (i32.const 0)))
      (then
        (local.set $i (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
          (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.mul (local.tee $d (f32x4.sub (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (v128.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))) (local.get $d)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.mul (local.tee $s (f32.sub (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))) (local.get $s)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $s_loop)))
        (return)))
    (if (i32.and (i32.eq (local.get $op) (i32.const 4)) (i32.eq (local.get $mode) (i32.const 1)))
      (then
        (local.set $i (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
          (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.mul (local.tee $d (f32x4.sub (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (local.get $vb))) (local.get $d)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.mul (local.tee $s (f32.sub (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (local.get $sb))) (local.get $s)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $s_loop)))
        (return)))
    (if (i32.and (i32.eq (local.get $op) (i32.const 4)) (i32.eq (local.get $mode) (i32.const 2)))
      (then
        (local.set $i (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
          (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.mul (local.tee $d (f32x4.sub (local.get $va) (v128.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))) (local.get $d)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.mul (local.tee $s (f32.sub (local.get $sa) (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))) (local.get $s)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $s_loop)))
        (return)))
    (unreachable))

  ;; sigmoid_backward: out[i] = dy[i] · y[i] · (1 − y[i])
  (func (export "sigmoid_backward") (param $y i32) (param $dy i32) (param $out i32) (param $n i32)
    (local $i i32) (local $n4 i32) (local $v v128) (local $s f32)
    (local.set $y (i32.shl (local.get $y) (i32.const 2)))
    (local.set $dy (i32.shl (local.get $dy) (i32.const 2)))
    (local.set $out (i32.shl (local.get $out) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $i (i32.const 0))
    (block $v_done (loop $v_loop
      (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $dy) (i32.shl (local.get $i) (i32.const 2)))) (local.tee $v (v128.load (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2)))))) (f32x4.sub (f32x4.splat (f32.const 1)) (local.get $v))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $v_loop)))
    (block $s_done (loop $s_loop
      (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.mul (f32.mul (f32.load (i32.add (local.get $dy) (i32.shl (local.get $i) (i32.const 2)))) (local.tee $s (f32.load (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2)))))) (f32.sub (f32.const 1) (local.get $s))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $s_loop))))

  ;; sigmoid_backward_grad_y: out[i] = g[i] · dy[i] · (1 − 2·y[i])
  (func (export "sigmoid_backward_grad_y") (param $y i32) (param $dy i32) (param $g i32) (param $out i32) (param $n i32)
    (local $i i32) (local $n4 i32)
    (local.set $y (i32.shl (local.get $y) (i32.const 2)))
    (local.set $dy (i32.shl (local.get $dy) (i32.const 2)))
    (local.set $g (i32.shl (local.get $g) (i32.const 2)))
    (local.set $out (i32.shl (local.get $out) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $i (i32.const 0))
    (block $v_done (loop $v_loop
      (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $g) (i32.shl (local.get $i) (i32.const 2)))) (v128.load (i32.add (local.get $dy) (i32.shl (local.get $i) (i32.const 2))))) (f32x4.sub (f32x4.splat (f32.const 1)) (f32x4.mul (f32x4.splat (f32.const 2)) (v128.load (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $v_loop)))
    (block $s_done (loop $s_loop
      (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.mul (f32.mul (f32.load (i32.add (local.get $g) (i32.shl (local.get $i) (i32.const 2)))) (f32.load (i32.add (local.get $dy) (i32.shl (local.get $i) (i32.const 2))))) (f32.sub (f32.const 1) (f32.mul (f32.const 2) (f32.load (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $s_loop))))

  ;; scaled_difference: out[i] = k · (a[i] − b[i])
  (func (export "scaled_difference") (param $a i32) (param $b i32) (param $k f32) (param $out i32) (param $n i32)
    (local $i i32) (local $n4 i32) (local $kv v128)
    (local.set $a (i32.shl (local.get $a) (i32.const 2)))
    (local.set $b (i32.shl (local.get $b) (i32.const 2)))
    (local.set $out (i32.shl (local.get $out) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $kv (f32x4.splat (local.get $k)))
    (local.set $i (i32.const 0))
    (block $v_done (loop $v_loop
      (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32x4.mul (local.get $kv) (f32x4.sub (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (v128.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $v_loop)))
    (block $s_done (loop $s_loop
      (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.mul (local.get $k) (f32.sub (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $s_loop))))

  ;; squared_distance: Σ (a[i] − b[i])², four lane sums added at the end
  (func (export "squared_distance") (param $a i32) (param $b i32) (param $n i32) (result f32)
    (local $i i32) (local $n4 i32) (local $acc v128) (local $d v128) (local $s f32) (local $t f32)
    (local.set $a (i32.shl (local.get $a) (i32.const 2)))
    (local.set $b (i32.shl (local.get $b) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $i (i32.const 0))
    (block $v_done (loop $v_loop
      (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
      (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.tee $d (f32x4.sub (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (v128.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))) (local.get $d))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $v_loop)))
    (block $s_done (loop $s_loop
      (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (f32.add (local.get $s) (f32.mul (local.tee $t (f32.sub (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))) (local.get $t))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $s_loop)))
    (f32.add (local.get $s)
      (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
               (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc))))))

  ;; exp of four lanes: Cephes' expf (range reduction by ln 2 in two parts, degree-6 polynomial,
  ;; scale by 2^n built in the exponent bits); inputs clamped to ±88, relative error ~1e-7.
  (func $exp4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.min (f32x4.max (local.get $x) (f32x4.splat (f32.const -88))) (f32x4.splat (f32.const 88))))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) (f32x4.splat (f32.const 1.44269504088896341)))))
    (local.set $r (f32x4.sub (f32x4.sub (local.get $x)
      (f32x4.mul (local.get $n) (f32x4.splat (f32.const 0.693359375))))
      (f32x4.mul (local.get $n) (f32x4.splat (f32.const -2.12194440e-4)))))
    (local.set $p (f32x4.splat (f32.const 1.9875691500e-4)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1.3981999507e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 8.3334519073e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 4.1665795894e-2))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1.6666665459e-1))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 5.0000001201e-1))))
    (local.set $p (f32x4.add (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r))
      (f32x4.splat (f32.const 1))))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32x4.splat (i32.const 127))) (i32.const 23))))

  ;; sigmoid: out[i] = 1 / (1 + exp(−x[i])); lanes of four, the tail through the same code on a
  ;; zero-padded copy (the caller pads x to a multiple of 4).
  (func (export "sigmoid") (param $x i32) (param $out i32) (param $n i32)
    (local $i i32)
    (local.set $x (i32.shl (local.get $x) (i32.const 2)))
    (local.set $out (i32.shl (local.get $out) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (f32x4.div (f32x4.splat (f32.const 1))
          (f32x4.add (f32x4.splat (f32.const 1))
            (call $exp4 (f32x4.neg (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $loop))))
)
