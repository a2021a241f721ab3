;; fedleak's SIMD matrix product for the cpu conv kernels (see ../wasm-gemm.ts).
;;
;;   C[i, 4j .. 4j+3] = Σ_{k < K} A[i·sai + k·sak] · B[k·ldb + 4j .. 4j+3]
;;
;; A is read one scalar at a time (splatted), so any strides work: row-major A, or A transposed.
;; B rows and C rows are read/written as f32x4 blocks; the caller pads their widths to multiples
;; of 4. K must be a multiple of 4: the k loop is unrolled by 4 into four independent
;; accumulators so that the f32x4 adds do not wait on one another.
;; All offsets and strides are in f32 elements; pointers are element indices into memory.
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
        (br $loop_i)))))
