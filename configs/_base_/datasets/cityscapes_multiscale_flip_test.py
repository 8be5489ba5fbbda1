# The paper's Cityscapes test protocol, "multi-scale flip augmentation" (Appendix VII-C), as
# MMSegmentation's tools/test.py --tta runs it: every image at 0.5, 0.75, 1.0, 1.25, 1.5 and 1.75
# times its size (Cityscapes' 2048x1024: 1024x512 to 3584x1792), each unflipped and flipped
# horizontally; SegTTAModel averages the 12 softmax maps. The Table IV configs take it as
# tta_pipeline, so that `tools/test.py CONFIG CKPT --tta` tests as the paper did (without --tta
# the test is single-scale, on the whole 2048x1024 image).
multiscale_flip_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
multiscale_flip_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug',
         transforms=[[dict(type='Resize', scale_factor=r, keep_ratio=True)
                      for r in multiscale_flip_ratios],
                     [dict(type='RandomFlip', prob=0.0, direction='horizontal'),
                      dict(type='RandomFlip', prob=1.0, direction='horizontal')],
                     [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]])
]
